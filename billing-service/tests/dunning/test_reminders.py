"""The scheduler's reminder step against real PostgreSQL, with time injected: step boundaries
in the company's timezone, catch-up, repeats, pauses, the statuses never reminded, late fees
(on the API, the e-mail, the PDF and the e-invoices, checked by the official rules), due-date
extensions, e-mail caps, a bad row, and two replicas at once."""

from __future__ import annotations

import asyncio
import email
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import policy
from typing import Any

import asyncpg
import pytest
from lxml import etree
from pypdf import PdfReader

from billing_service.dunning.services.reminders import Reminders
from billing_service.events.keys import EVENTS
from billing_service.invoices.keys import INVOICE_ACTIONS
from billing_service.invoices.services.records import InvoiceRecords
from billing_service.mail.services.quota import MailQuota
from billing_service.platform.keys import POOL, SETTINGS
from billing_service.platform.recurrence import company_today
from billing_service.scheduling.repositories import company_timezones
from billing_service.scheduling.services.recurring import RecurringService
from billing_service.scheduling.services.scheduler import Scheduler

from ..documents.test_documents import fetch_pdf
from ..documents.test_einvoice_api import einvoice, new_invoice, ready
from ..helpers.einvoice_validation import validate
from ..helpers.invoices import approved_invoice
from ..mail.test_mailer import isolate_outbox, mailer_for
from ..scheduling.test_scheduler import only_these_templates_run

V1 = "/api/v1"
DUE = date(2025, 6, 30)
LINE = {"label": "Design", "quantity": 10, "price": 100, "tax_percentage": 10}  # 1,100.00


def at(day: date | str, hour: int = 12, minute: int = 0) -> datetime:
    start = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(start.year, start.month, start.day, hour, minute, tzinfo=UTC)


def reminders_for(pool: asyncpg.Pool, billing: Any, now: datetime, **settings: Any) -> Reminders:
    clock = lambda: now  # noqa: E731 - a frozen instant
    current = billing.app[SETTINGS].model_copy(update=settings)
    return Reminders(
        InvoiceRecords(pool, clock, billing.app[EVENTS]),
        MailQuota.from_settings(current),
        billing.app[INVOICE_ACTIONS].addressees,
    )


async def remind(billing: Any, now: datetime, pool: asyncpg.Pool | None = None, **settings: Any):
    """One reminder pass at `now`, each company on its own date."""
    pool = pool or billing.app[POOL]
    dates = {name: company_today(now, name) for name in await company_timezones(pool)}
    return await reminders_for(pool, billing, now, **settings).run_once(now, dates)


async def configure(api, setup, steps, *, timezone: str | None = None) -> None:
    if timezone:
        path = f"{V1}/companies/{setup.company_id}"
        assert (await api("PATCH", path, setup.headers, {"timezone": timezone}))[0] == 200
    body = {"enabled": True, "steps": steps}
    status, answer = await api(
        "PUT", f"{V1}/companies/{setup.company_id}/reminders", setup.headers, body
    )
    assert status == 200, answer


async def issued(api, setup, *, due: date = DUE, sent_with: Any = None, **fields) -> int:
    """An approved invoice of 1,100.00, e-mailed too when `sent_with` (the pool) is given."""
    body = {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "scheduled_date": "2025-06-01",
        "due_date": due.isoformat(),
        "items": [LINE],
    } | fields
    invoice_id = (await approved_invoice(api, setup, body))["id"]
    if sent_with is not None:
        path = f"{V1}/invoices/{invoice_id}/send"
        status, answer = await api("POST", path, setup.headers, {"template": "invoice-issued"})
        assert status == 200, answer
        await queued_on_issue(sent_with, invoice_id)
    return int(invoice_id)


async def queued_on_issue(pool, invoice_id: int) -> None:
    """The issue e-mail dated on the issue day: the quotas count e-mails by when they were
    queued, and the tests' clock stands in 2025, before the wall clock that queued it."""
    await pool.execute(
        "UPDATE email_outbox SET created_at = '2025-06-01T09:00:00Z' WHERE invoice_id = $1",
        invoice_id,
    )


async def sent_steps(pool, invoice_id: int) -> list[tuple[int, int]]:
    rows = await pool.fetch(
        "SELECT step, repeat FROM invoice_reminders WHERE invoice_id = $1 ORDER BY id", invoice_id
    )
    return [(row["step"], row["repeat"]) for row in rows]


async def reminder_emails(pool, invoice_id: int) -> list[tuple[str, str]]:
    """(template, address) of every e-mail queued for the invoice but its issue e-mail."""
    rows = await pool.fetch(
        "SELECT template, to_email FROM email_outbox WHERE invoice_id = $1 "
        "AND template <> 'invoice-issued' ORDER BY id",
        invoice_id,
    )
    return [(row["template"], row["to_email"]) for row in rows]


async def reminder_events(pool, invoice_id: int) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT data FROM events WHERE subject = $1 AND type = 'invoice.reminder_sent' "
        "ORDER BY seq",
        f"invoice:{invoice_id}",
    )
    return [json.loads(row["data"]) for row in rows]


async def invoice(api, setup, invoice_id: int) -> dict[str, Any]:
    status, answer = await api("GET", f"{V1}/invoices/{invoice_id}", setup.headers)
    assert status == 200, answer
    return answer["data"]


async def test_each_step_on_its_day_once_with_its_template_history_and_event(
    api, make_setup, billing
):
    setup = await make_setup()
    await configure(api, setup, [{"days": -3}, {"days": 0}, {"days": 7}])
    pool = billing.app[POOL]
    invoice_id = await issued(api, setup, sent_with=pool)
    # The last minute before a step's day, then its first minute.
    for now, expected in [
        (at("2025-06-26", 23, 59), []),
        (at("2025-06-27", 0, 0), [(1, 0)]),
        (at("2025-06-27", 18), [(1, 0)]),  # once
        (at("2025-06-29", 23, 59), [(1, 0)]),
        (at("2025-06-30", 0, 0), [(1, 0), (2, 0)]),
        (at("2025-07-06", 23, 59), [(1, 0), (2, 0)]),
        (at("2025-07-07", 0, 0), [(1, 0), (2, 0), (3, 0)]),
        (at("2025-09-01"), [(1, 0), (2, 0), (3, 0)]),  # no step after the last
    ]:
        await remind(billing, now)
        assert await sent_steps(pool, invoice_id) == expected, now
    assert await reminder_emails(pool, invoice_id) == [
        ("invoice-reminder", "billing@client.example"),
        ("invoice-due", "billing@client.example"),
        ("invoice-due-reminder", "billing@client.example"),
    ]
    events = await reminder_events(pool, invoice_id)
    assert [event["reminder"]["step"] for event in events] == [1, 2, 3]
    assert all(event["reminder"]["addresses"] == 1 for event in events)
    assert all(event["id"] == invoice_id for event in events)  # the invoice, as members see it
    history = [entry["event"] for entry in (await invoice(api, setup, invoice_id))["history"]]
    assert [entry for entry in history if entry.startswith("reminder_sent")] == [
        "reminder_sent:1",
        "reminder_sent:2",
        "reminder_sent:3",
    ]


async def test_a_step_is_due_on_the_companys_own_date(api, make_setup, billing):
    """Due June 30, step +1: due on July 1 in Auckland (UTC+12 in winter) 12 h before UTC,
    and in Los Angeles (UTC-7 in summer) 7 h after."""
    auckland, los_angeles = await make_setup(), await make_setup()
    await configure(api, auckland, [{"days": 1}], timezone="Pacific/Auckland")
    await configure(api, los_angeles, [{"days": 1}], timezone="America/Los_Angeles")
    nz, la = await issued(api, auckland), await issued(api, los_angeles)
    pool = billing.app[POOL]
    for now, expected_nz, expected_la in [
        (at("2025-06-30", 11, 59), [], []),  # 23:59 June 30 in Auckland
        (at("2025-06-30", 12, 0), [(1, 0)], []),  # midnight in Auckland; 05:00 June 30 in LA
        (at("2025-07-01", 6, 59), [(1, 0)], []),  # 23:59 June 30 in LA
        (at("2025-07-01", 7, 0), [(1, 0)], [(1, 0)]),  # midnight in LA
    ]:
        await remind(billing, now)
        assert await sent_steps(pool, nz) == expected_nz, now
        assert await sent_steps(pool, la) == expected_la, now


async def test_switched_on_late_only_the_latest_passed_step_is_sent(api, make_setup, billing):
    setup = await make_setup()
    invoice_id = await issued(api, setup)
    pool = billing.app[POOL]
    steps = [
        {"days": -3, "late_fee": {"amount": "1.00"}},
        {"days": 7, "late_fee": {"amount": "2.00"}},
        {"days": 14, "late_fee": {"amount": "3.00"}},
        {"days": 60},
    ]
    await remind(billing, at(DUE + timedelta(days=20)))  # off: nothing
    assert await sent_steps(pool, invoice_id) == []
    await configure(api, setup, steps)
    await remind(billing, at(DUE + timedelta(days=20)))
    await remind(billing, at(DUE + timedelta(days=21)))
    assert await sent_steps(pool, invoice_id) == [(3, 0)]
    assert len(await reminder_emails(pool, invoice_id)) == 1
    shown = await invoice(api, setup, invoice_id)
    assert [item["label"] for item in shown["items"]] == ["Design", "Late fee (reminder 3)"]
    assert shown["total"] == "1103.00"  # only the step sent adds its fee


async def test_the_last_step_repeats_and_never_in_a_burst(api, make_setup, billing):
    setup = await make_setup()
    await configure(
        api,
        setup,
        [{"days": 7}, {"days": 30, "repeat_every_days": 30, "late_fee": {"amount": "5.00"}}],
    )
    invoice_id = await issued(api, setup)
    pool = billing.app[POOL]
    for days, expected in [
        (40, [(2, 0)]),  # past both steps: the latest
        (69, [(2, 0)]),
        (70, [(2, 0), (2, 1)]),  # 30 days after it was sent
        (99, [(2, 0), (2, 1)]),
        (100, [(2, 0), (2, 1), (2, 2)]),
        (400, [(2, 0), (2, 1), (2, 2), (2, 3)]),  # a year of downtime: one, not ten
        (429, [(2, 0), (2, 1), (2, 2), (2, 3)]),
        (430, [(2, 0), (2, 1), (2, 2), (2, 3), (2, 4)]),
    ]:
        await remind(billing, at(DUE + timedelta(days=days)))
        assert await sent_steps(pool, invoice_id) == expected, days
    shown = await invoice(api, setup, invoice_id)
    assert shown["total"] == "1105.00"  # the fee once per step, not per repeat
    history = [entry["event"] for entry in shown["history"]]
    assert "reminder_sent:2.4" in history


async def test_paused_invoices_and_customers_get_nothing_until_resumed(api, make_setup, billing):
    setup = await make_setup()
    await configure(api, setup, [{"days": 1}])
    paused_invoice, other = await issued(api, setup), await issued(api, setup)
    pool = billing.app[POOL]
    path = f"{V1}/invoices/{paused_invoice}"
    assert (await api("PATCH", path, setup.headers, {"reminders_paused": True}))[0] == 200
    second = await make_setup()
    await configure(api, second, [{"days": 1}])
    of_paused_customer = await issued(api, second)
    path_customer = f"{V1}/recipients/{second.recipient_id}"
    assert (await api("PATCH", path_customer, second.headers, {"reminders_paused": True}))[0] == 200

    await remind(billing, at("2025-07-05"))
    assert await sent_steps(pool, paused_invoice) == []
    assert await sent_steps(pool, of_paused_customer) == []
    assert await sent_steps(pool, other) == [(1, 0)]

    assert (await api("PATCH", path, setup.headers, {"reminders_paused": False}))[0] == 200
    assert (await api("PATCH", path_customer, second.headers, {"reminders_paused": False}))[
        0
    ] == 200
    await remind(billing, at("2025-07-06"))
    assert await sent_steps(pool, paused_invoice) == [(1, 0)]
    assert await sent_steps(pool, of_paused_customer) == [(1, 0)]


async def test_paid_credited_cancelled_draft_and_quotes_are_never_reminded(
    api, make_setup, billing
):
    setup = await make_setup()
    await configure(api, setup, [{"days": -10}, {"days": 1}])
    h = setup.headers
    paid = await issued(api, setup)
    assert (await api("POST", f"{V1}/invoices/{paid}/pay", h, {"amount": "1100.00"}))[0] == 200
    credited = await issued(api, setup)
    status, note = await api(
        "POST", f"{V1}/invoices/{credited}/credit-notes", h, {"reason": "Returned"}
    )
    assert status == 201, note
    assert (await api("POST", f"{V1}/invoices/{note['data']['id']}/approve", h, {}))[0] == 200
    cancelled = await issued(api, setup)
    assert (await api("POST", f"{V1}/invoices/{cancelled}/cancel", h, {}))[0] == 200
    status, draft = await api(
        "POST",
        f"{V1}/invoices",
        h,
        {
            "invoice_recipient_id": setup.recipient_id,
            "due_date": "2025-06-30",
            "items": [LINE],
            "scheduled_date": "2025-06-01",
        },
    )
    status, quote = await api(
        "POST",
        f"{V1}/quotes",
        h,
        {
            "invoice_recipient_id": setup.recipient_id,
            "due_date": "2025-06-30",
            "items": [LINE],
            "scheduled_date": "2025-06-01",
        },
    )
    assert (await api("POST", f"{V1}/invoices/{quote['data']['id']}/approve", h, {}))[0] == 200
    reminded = await issued(api, setup)
    partly_paid = await issued(api, setup)
    assert (await api("POST", f"{V1}/invoices/{partly_paid}/pay", h, {"amount": "100"}))[0] == 200
    pool = billing.app[POOL]
    await remind(billing, at("2025-07-10"))
    for never in (paid, credited, cancelled, draft["data"]["id"], quote["data"]["id"]):
        assert await sent_steps(pool, never) == [], never
        assert await reminder_emails(pool, never) == [], never
    assert await sent_steps(pool, reminded) == [(2, 0)]
    assert await sent_steps(pool, partly_paid) == [(2, 0)]  # a balance is still owed


UBL_PAYABLE = "//*[local-name()='LegalMonetaryTotal']/*[local-name()='PayableAmount']"
CII_DUE = "//*[local-name()='DuePayableAmount']"


async def test_late_fees_show_in_the_api_the_email_the_pdf_and_valid_einvoices(
    api, make_setup, billing, pdf_server, tmp_path
):
    setup = await make_setup(currency="EUR")
    await ready(api, setup)
    created = await new_invoice(api, setup)  # due 2025-06-30, three lines at 19 % and 7 %
    invoice_id = created["id"]
    h = setup.headers
    assert (await api("POST", f"{V1}/invoices/{invoice_id}/approve", h, {}))[0] == 200
    owed = Decimal((await invoice(api, setup, invoice_id))["balance_due"])
    await configure(
        api,
        setup,
        [
            {"days": 1, "late_fee": {"percent": "2.0"}},
            {"days": 10, "late_fee": {"amount": "10.00"}, "extend_due_days": 14},
        ],
    )
    pool = billing.app[POOL]
    await remind(billing, at("2025-07-01"))
    shown = await invoice(api, setup, invoice_id)
    percent_fee = (owed * Decimal("0.02")).quantize(Decimal("0.01"))
    fee_line = shown["items"][-1]
    assert fee_line["label"] == "Late fee (reminder 1)"
    assert Decimal(fee_line["total"]) == percent_fee and Decimal(fee_line["tax"]) == 0
    assert (fee_line["vat_category"], fee_line["tax_percentage"]) == ("E", "0.00")
    assert Decimal(shown["total"]) == owed + percent_fee
    assert Decimal(shown["balance_due"]) == owed + percent_fee

    await remind(billing, at("2025-07-10"))
    shown = await invoice(api, setup, invoice_id)
    assert [item["label"] for item in shown["items"][-2:]] == [
        "Late fee (reminder 1)",
        "Late fee (reminder 2)",
    ]
    balance = owed + percent_fee + Decimal("10.00")
    assert Decimal(shown["balance_due"]) == balance
    assert shown["due_date"] == "2025-07-24"  # 14 days from the day the reminder went out
    history = [entry["event"] for entry in shown["history"]]
    assert f"late_fee_added:{percent_fee}" in history and "late_fee_added:10.00" in history
    assert "due_date_extended:2025-07-24" in history
    events = await reminder_events(pool, invoice_id)
    assert [Decimal(event["reminder"]["late_fee"]) for event in events] == [
        percent_fee,
        Decimal("10.00"),
    ]
    assert Decimal(events[-1]["balance_due"]) == balance  # the event's invoice has the fee

    # The e-invoices carry the fee lines, pass the official rules, and owe the same balance.
    for fmt, payable in (("ubl", UBL_PAYABLE), ("xrechnung", UBL_PAYABLE), ("cii", CII_DUE)):
        response, body = await einvoice(billing, setup, invoice_id, fmt)
        assert response.status == 200, body
        assert validate(fmt, body).errors == [], fmt
        [amount] = etree.fromstring(body).xpath(payable)
        assert Decimal(amount.text) == balance, fmt

    # The e-mail the mailer sends states that balance, and so does the PDF attached to it.
    await isolate_outbox(billing, invoice_id)
    mailer = mailer_for(billing, datetime.now(UTC), smtp_host="", mail_dir=str(tmp_path))
    assert await mailer.run_once() == 2
    last_id = await pool.fetchval(
        "SELECT max(id) FROM email_outbox WHERE invoice_id = $1", invoice_id
    )
    message = email.message_from_bytes(
        next(tmp_path.glob(f"{last_id:08d}-*.eml")).read_bytes(), policy=policy.default
    )
    text = message.get_body(("plain",)).get_content()
    [stated] = re.findall(r"and (.+) is still outstanding", text)
    assert Decimal(re.sub(r"[^0-9.]", "", stated)) == balance
    attachment = next(message.iter_attachments()).get_content()
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(attachment)).pages)
    assert stated in pdf_text and "Late fee (reminder 2)" in pdf_text
    status, link = await api("GET", f"{V1}/invoices/{invoice_id}/download", h)
    status, downloaded = await fetch_pdf(pdf_server, link["data"]["download_url"])
    assert status == 200
    assert stated in "".join(p.extract_text() for p in PdfReader(io.BytesIO(downloaded)).pages)


async def test_a_fee_past_the_largest_total_is_left_out_and_the_reminder_still_goes(
    api, make_setup, billing
):
    setup = await make_setup()
    await configure(api, setup, [{"days": 1, "late_fee": {"amount": "100.00"}}])
    # 9,999,999,999,990.00: 10.00 short of the largest total an invoice may have.
    big = [
        {"label": "Plant", "quantity": 9090, "price": "1000000000", "tax_percentage": 10},
        {"label": "Rest", "quantity": 1, "price": "909090900", "tax_percentage": 10},
    ]
    invoice_id = await issued(api, setup, items=big)
    before = (await invoice(api, setup, invoice_id))["total"]
    assert before == "9999999999990.00"
    pool = billing.app[POOL]
    await remind(billing, at("2025-07-01"))
    assert await sent_steps(pool, invoice_id) == [(1, 0)]
    assert len(await reminder_emails(pool, invoice_id)) == 1
    shown = await invoice(api, setup, invoice_id)
    assert shown["total"] == before
    assert "Late fee (reminder 1)" not in [item["label"] for item in shown["items"]]
    history = [entry["event"] for entry in shown["history"]]
    assert "reminder_sent:1" in history
    assert [e for e in history if e.startswith("late_fee")] == [
        "late_fee_left_out:100.00 (the total would pass the maximum, 10000000000000)"
    ]
    [event] = await reminder_events(pool, invoice_id)
    assert event["reminder"]["late_fee"] is None
    retries = await pool.fetchval(
        "SELECT count(*) FROM reminder_retries WHERE invoice_id = $1", invoice_id
    )
    assert retries == 0


async def test_extending_the_due_date_moves_the_next_step(api, make_setup, billing):
    setup = await make_setup()
    await configure(api, setup, [{"days": 7, "extend_due_days": 14}, {"days": 10}])
    invoice_id = await issued(api, setup)
    pool = billing.app[POOL]
    await remind(billing, at("2025-07-07"))
    shown = await invoice(api, setup, invoice_id)
    assert shown["due_date"] == "2025-07-21"
    # The next step counts from the new due date: July 31, not July 10.
    await remind(billing, at("2025-07-30"))
    assert await sent_steps(pool, invoice_id) == [(1, 0)]
    await remind(billing, at("2025-07-31"))
    assert await sent_steps(pool, invoice_id) == [(1, 0), (2, 0)]
    reminders = await pool.fetch(
        "SELECT due_before, due_after FROM invoice_reminders WHERE invoice_id = $1 ORDER BY id",
        invoice_id,
    )
    assert [(r["due_before"], r["due_after"]) for r in reminders] == [
        (date(2025, 6, 30), date(2025, 7, 21)),
        (date(2025, 7, 21), date(2025, 7, 21)),
    ]


@pytest.mark.parametrize(
    "caps", [{"mail_company_hourly_cap": 2}, {"mail_user_hourly_cap": 2}], ids=str
)
async def test_over_an_email_cap_a_reminder_waits_then_goes_with_its_fee_once(
    api, make_setup, billing, caps
):
    setup = await make_setup()
    await configure(api, setup, [{"days": 1, "late_fee": {"amount": "10.00"}}])
    first, second = await issued(api, setup), await issued(api, setup)
    pool = billing.app[POOL]
    now = at("2025-07-02")
    # One e-mail of the company (its owner's) already queued this hour, of an invoice due later.
    later = await issued(api, setup, due=date(2025, 12, 31))
    path = f"{V1}/invoices/{later}/send"
    assert (await api("POST", path, setup.headers, {"template": "invoice-issued"}))[0] == 200
    await pool.execute("UPDATE email_outbox SET created_at = $2 WHERE invoice_id = $1", later, now)
    run = await remind(billing, now, **caps)
    assert run.sent >= 1 and run.deferred >= 1
    # The earlier due goes first; the second is over the cap of 2 e-mails an hour.
    assert await sent_steps(pool, first) == [(1, 0)]
    waiting = second
    assert await sent_steps(pool, waiting) == []
    retry_at = await pool.fetchval(
        "SELECT retry_at FROM reminder_retries WHERE invoice_id = $1", waiting
    )
    assert now + timedelta(minutes=59) < retry_at <= now + timedelta(hours=1)
    # Tried again before the slot frees: still waiting, no fee, no e-mail.
    await remind(billing, now + timedelta(minutes=30), **caps)
    assert await sent_steps(pool, waiting) == []
    assert (await invoice(api, setup, waiting))["total"] == "1100.00"
    assert await reminder_emails(pool, waiting) == []
    # Once the hour has passed it goes, with its fee added once.
    await remind(billing, now + timedelta(hours=1, seconds=1), **caps)
    await remind(billing, now + timedelta(hours=2), **caps)
    assert await sent_steps(pool, waiting) == [(1, 0)]
    assert len(await reminder_emails(pool, waiting)) == 1
    for invoice_id in (first, second):
        shown = await invoice(api, setup, invoice_id)
        assert shown["total"] == "1110.00"
        assert [item["label"] for item in shown["items"]].count("Late fee (reminder 1)") == 1


async def test_a_bad_row_fails_alone_is_retried_then_set_aside(api, make_setup, billing):
    nobody = await make_setup(email=None)  # a customer without an e-mail address
    await configure(api, nobody, [{"days": 1, "late_fee": {"amount": "10.00"}}])
    bad = await issued(api, nobody)
    good_setup = await make_setup()
    await configure(api, good_setup, [{"days": 1}])
    good = await issued(api, good_setup)
    pool = billing.app[POOL]
    now = at("2025-07-02")
    run = await remind(billing, now)
    assert run.failed >= 1
    assert await sent_steps(pool, good) == [(1, 0)]
    row = await pool.fetchrow("SELECT * FROM reminder_retries WHERE invoice_id = $1", bad)
    assert row["attempts"] == 1 and row["failed_at"] is None
    assert row["error"].startswith("ValidationFailed")
    assert row["retry_at"] == now + timedelta(seconds=30)
    # Nothing of the failed reminder stays: no fee, no e-mail, no record.
    assert (await invoice(api, nobody, bad))["total"] == "1100.00"
    assert await reminder_emails(pool, bad) == [] and await sent_steps(pool, bad) == []
    for attempt in range(2, 6):
        await remind(billing, now + timedelta(hours=attempt))
    row = await pool.fetchrow("SELECT * FROM reminder_retries WHERE invoice_id = $1", bad)
    assert row["attempts"] == 5 and row["failed_at"] is not None
    history = [entry["event"] for entry in (await invoice(api, nobody, bad))["history"]]
    assert any(entry.startswith("reminder_failed:ValidationFailed") for entry in history)
    await remind(billing, now + timedelta(days=3))
    assert (
        await pool.fetchval("SELECT attempts FROM reminder_retries WHERE invoice_id = $1", bad)
    ) == 5
    # Fixed (an address) and the invoice updated: it is tried again and sent.
    path = f"{V1}/recipients/{nobody.recipient_id}"
    assert (await api("PATCH", path, nobody.headers, {"email": "ap@client.example"}))[0] == 200
    invoice_path = f"{V1}/invoices/{bad}"
    assert (await api("PATCH", invoice_path, nobody.headers, {"reminders_paused": False}))[0] == 200
    await remind(billing, now + timedelta(days=4))
    assert await sent_steps(pool, bad) == [(1, 0)]
    assert (
        await pool.fetchval("SELECT count(*) FROM reminder_retries WHERE invoice_id = $1", bad) == 0
    )


async def test_two_replicas_at_once_send_each_step_exactly_once(
    api, make_setup, billing, database_urls
):
    setups = [await make_setup() for _ in range(3)]
    ids = []
    for setup in setups:
        await configure(api, setup, [{"days": 1, "late_fee": {"percent": "1.5"}}, {"days": 20}])
        ids += [await issued(api, setup) for _ in range(8)]
    pools = [
        await asyncpg.create_pool(database_urls["billing"], min_size=2, max_size=4)
        for _ in range(2)
    ]
    try:
        for now in (at("2025-07-05"), at("2025-07-25")):
            runs = await asyncio.gather(
                *(remind(billing, now, pool) for pool in pools),
                *(remind(billing, now, pool) for pool in pools),
            )
            assert sum(run.failed for run in runs) == 0
    finally:
        for pool in pools:
            await pool.close()
    pool = billing.app[POOL]
    for invoice_id in ids:
        assert await sent_steps(pool, invoice_id) == [(1, 0), (2, 0)], invoice_id
        assert len(await reminder_emails(pool, invoice_id)) == 2
        assert len(await reminder_events(pool, invoice_id)) == 2
        items = await pool.fetch(
            "SELECT label FROM invoice_items WHERE invoice_id = $1", invoice_id
        )
        assert [row["label"] for row in items].count("Late fee (reminder 1)") == 1


async def test_the_scheduler_runs_the_reminder_step(api, make_setup, billing):
    setup = await make_setup()
    await configure(api, setup, [{"days": 2}])
    invoice_id = await issued(api, setup)
    pool = billing.app[POOL]
    now = at("2025-07-02")
    clock = lambda: now  # noqa: E731
    reminders = reminders_for(pool, billing, now)
    records = InvoiceRecords(pool, clock, billing.app[EVENTS])
    scheduler = Scheduler(
        pool, RecurringService(records), clock, added_steps=[reminders.scheduler_step]
    )
    await only_these_templates_run(pool, [])  # others' templates would catch up for years
    run = await scheduler.run_once()
    assert run.added >= 1
    assert await sent_steps(pool, invoice_id) == [(1, 0)]
