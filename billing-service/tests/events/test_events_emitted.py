"""Every action writes its event, exactly once, in its own transaction: the record as a member
sees it right after (what GET answers), nothing for an action that fails, and one pending
delivery per enabled endpoint of the company subscribed to its type."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from billing_service.events.keys import EVENTS
from billing_service.events.services import EventLog
from billing_service.events.types import EVENT_TYPES
from billing_service.invoices.services.records import InvoiceRecords
from billing_service.platform.keys import POOL, SETTINGS
from billing_service.scheduling.services.recurring import RecurringService
from billing_service.scheduling.services.scheduler import Scheduler
from billing_service.webhooks.secrets import SecretBox, new_secret

from ..helpers.invoices import created_invoice
from ..helpers.recurring import template_body
from ..scheduling.test_scheduler import only_these_templates_run

V1 = "/api/v1"
API_MD = Path(__file__).resolve().parents[3] / "docs" / "api.md"
# Invoice fields a later change rightly moves on (a delete's own view is never answered).
CHANGING = {"updated_at", "version", "history", "available_actions"}


async def events_about(pool: Any, subject: str) -> list[tuple[str, Any]]:
    """(type, data) of the events about `subject`, in the order they were written."""
    rows = await pool.fetch(
        "SELECT type, data FROM events WHERE subject = $1 ORDER BY seq", subject
    )
    return [(row["type"], json.loads(row["data"])) for row in rows]


async def announced(pool: Any, subject: str, event_type: str) -> list[Any]:
    return [data for kind, data in await events_about(pool, subject) if kind == event_type]


class Watch:
    """One record of the invoices table, its events and its member view."""

    def __init__(self, api: Any, pool: Any, headers: dict[str, str], invoice_id: int) -> None:
        self.api, self.pool, self.headers, self.id = api, pool, headers, invoice_id
        self.subject = f"invoice:{invoice_id}"

    async def view(self) -> Any:
        status, answer = await self.api("GET", f"{V1}/invoices/{self.id}", self.headers)
        assert status == 200, answer
        return answer["data"]

    async def types(self) -> list[str]:
        return [kind for kind, _ in await events_about(self.pool, self.subject)]

    async def shows(self, event_type: str, times: int = 1) -> None:
        """`times` events of the type so far, the last one carrying what GET answers now."""
        found = await announced(self.pool, self.subject, event_type)
        assert len(found) == times, (event_type, await self.types())
        assert found[-1] == await self.view(), event_type

    async def do(self, path: str, body: Any = None, method: str = "POST", **headers: str) -> Any:
        status, answer = await self.api(
            method, f"{V1}/invoices/{self.id}{path}", self.headers | headers, body
        )
        assert status in (200, 201, 204), (path, answer)
        return answer


async def test_an_invoice_announces_every_change_once_with_what_a_member_sees(
    api, make_setup, billing
):
    setup = await make_setup()
    invoice = await created_invoice(api, setup, due_date="2025-06-30", scheduled_date="2025-06-01")
    watch = Watch(api, billing.app[POOL], setup.headers, invoice["id"])
    assert await announced(watch.pool, watch.subject, "invoice.created") == [invoice]
    await watch.shows("invoice.created")
    await watch.do("", {"notes": "Thanks"}, method="PATCH")
    await watch.shows("invoice.updated")
    await watch.do("/set-due-date", {"due_date": "2025-07-15"})
    await watch.shows("invoice.updated", 2)
    await watch.do("/set-period", {"period": "June 2025"})
    await watch.shows("invoice.updated", 3)
    await watch.do("/members", {"members": []})
    await watch.shows("invoice.updated", 4)
    await watch.do("/set-schedule-date", {"scheduled_date": "2025-06-02"})
    await watch.shows("invoice.updated", 5)
    await watch.do("/approve", {})
    await watch.shows("invoice.approved")
    await watch.shows("invoice.pdf_ready")  # rendered after the approval, stored and announced
    await watch.do("/send", {"template": "invoice-issued"})
    await watch.shows("invoice.sent")
    await watch.do("/pay", {"amount": "5.00"})
    await watch.shows("invoice.payment_recorded")
    balance = (await watch.view())["balance_due"]
    await watch.do("/pay", {"amount": balance})
    await watch.shows("invoice.payment_recorded", 2)
    await watch.shows("invoice.paid")
    assert (await watch.types())[-2:] == ["invoice.payment_recorded", "invoice.paid"]
    # A send refused (the invoice was e-mailed moments ago) is no send.
    status, _ = await api("POST", f"{V1}/invoices/{watch.id}/send", setup.headers, {})
    assert status == 429
    await watch.do("/regenerate-pdf")
    await watch.shows("invoice.pdf_ready", 2)
    assert Counter(await watch.types()) == {
        "invoice.created": 1,
        "invoice.updated": 5,
        "invoice.approved": 1,
        "invoice.pdf_ready": 2,
        "invoice.sent": 1,
        "invoice.payment_recorded": 2,
        "invoice.paid": 1,
    }


async def test_quotes_conversions_cancellations_and_deletes_are_announced(api, make_setup, billing):
    setup = await make_setup()
    pool, h = billing.app[POOL], setup.headers
    quote = await created_invoice(api, setup, type="quote")
    watch = Watch(api, pool, h, quote["id"])
    await watch.do("/send", {"template": "quote"})
    await watch.shows("quote.sent")
    await watch.do("/approve", {})
    await watch.shows("quote.approved")
    made = (await watch.do("/convert", {"type": "invoice"}))["data"]
    await watch.shows("quote.converted")  # about the quote, with the quote
    assert (await watch.view())["status"] == "converted"
    made_watch = Watch(api, pool, h, made["id"])
    await made_watch.shows("invoice.created")  # the new record has its own
    assert await made_watch.types() == ["invoice.created"]

    reminded = Watch(api, pool, h, (await created_invoice(api, setup, status="sent"))["id"])
    await reminded.do("/send-email", {})
    await reminded.shows("invoice.sent")  # every send, whether the status moves or not
    assert (await reminded.view())["status"] == "sent"

    declined = Watch(api, pool, h, (await created_invoice(api, setup, type="quote"))["id"])
    await declined.do("/decline")
    await declined.shows("quote.declined")

    cancelled = Watch(api, pool, h, (await created_invoice(api, setup))["id"])
    template = await cancelled.do("/convert", {"type": "recurring", "recurring": "monthly"})
    assert await cancelled.types() == ["invoice.created"]  # the invoice itself is unchanged
    await Watch(api, pool, h, template["data"]["id"]).shows("recurring.created")
    await cancelled.do("/cancel")
    await cancelled.shows("invoice.cancelled")

    kept = await created_invoice(api, setup, type="template")
    await Watch(api, pool, h, kept["id"]).shows("template.created")

    deleted = Watch(api, pool, h, (await created_invoice(api, setup))["id"])
    before = await deleted.view()
    await deleted.do("", method="DELETE")
    [gone] = await announced(pool, deleted.subject, "invoice.deleted")
    assert {k: v for k, v in gone.items() if k not in CHANGING} == {
        k: v for k, v in before.items() if k not in CHANGING
    }
    assert gone["version"] == before["version"] + 1
    assert gone["history"][-1]["event"] == "deleted"
    assert await deleted.types() == ["invoice.created", "invoice.deleted"]


@pytest.mark.parametrize(
    "kind, fields",
    [("quote", {}), ("recurring", {"recurring": "monthly"}), ("template", {})],
)
async def test_every_type_announces_its_edits_pdfs_cancellation_and_deletion(
    api, make_setup, billing, kind, fields
):
    setup = await make_setup()
    pool, h = billing.app[POOL], setup.headers
    record = Watch(api, pool, h, (await created_invoice(api, setup, type=kind, **fields))["id"])
    await record.shows(f"{kind}.created")
    await record.do("", {"notes": "Revised"}, method="PATCH")
    await record.shows(f"{kind}.updated")
    await record.do("/regenerate-pdf")
    await record.shows(f"{kind}.pdf_ready")
    await record.do("/cancel")
    await record.shows(f"{kind}.cancelled")
    removed = Watch(api, pool, h, (await created_invoice(api, setup, type=kind, **fields))["id"])
    await removed.do("", method="DELETE")
    assert await removed.types() == [f"{kind}.created", f"{kind}.deleted"]


async def test_a_generated_invoice_is_created_sent_and_announced_as_generated(
    api, make_setup, billing
):
    setup = await make_setup()
    pool, h = billing.app[POOL], setup.headers
    start = date.today() + timedelta(days=2)  # not a missed period: auto-sent at once
    body = template_body(
        setup,
        scheduled_date=start.isoformat(),
        due_date=(start + timedelta(days=14)).isoformat(),
        auto_send=True,
    )
    status, created = await api("POST", f"{V1}/invoices", h, body)
    assert status == 201, created
    template = Watch(api, pool, h, created["data"]["id"])
    child = (await template.do("/create-next"))["data"]
    generated = Watch(api, pool, h, child["id"])
    assert await generated.types() == [
        "invoice.created",
        "invoice.sent",
        "recurring.invoice_generated",
    ]
    for event_type in await generated.types():
        await generated.shows(event_type)
    assert (await generated.view())["status"] == "sent"
    assert await template.types() == ["recurring.created"]


async def test_the_scheduler_announces_overdue_once_per_due_date_in_the_company_timezone(
    api, make_setup, billing
):
    utc, ahead = await make_setup(), await make_setup()
    status, _ = await api(
        "PATCH",
        f"{V1}/companies/{ahead.company_id}",
        ahead.headers,
        {"timezone": "Pacific/Kiritimati"},
    )
    assert status == 200
    pool = billing.app[POOL]
    due = {"scheduled_date": "2031-05-01", "due_date": "2031-05-10"}
    late = Watch(
        api, pool, utc.headers, (await created_invoice(api, utc, status="sent", **due))["id"]
    )
    early = Watch(
        api, pool, ahead.headers, (await created_invoice(api, ahead, status="sent", **due))["id"]
    )
    never = [
        await created_invoice(api, utc, status="paid", **due),  # no balance
        await created_invoice(api, utc, **due),  # a draft awaits no payment
        await created_invoice(api, utc, type="quote", status="sent", **due),
    ]
    template = await created_invoice(
        api, utc, **template_body(utc, scheduled_date="2031-05-10", due_date=None)
    )
    await only_these_templates_run(pool, [template["id"]])  # other tests' would catch up years

    async def scheduler_at(now: datetime) -> Any:
        clock = lambda: now  # noqa: E731 - a frozen instant
        events = EventLog(clock, billing.app[EVENTS].public_base_url)
        recurring = RecurringService(InvoiceRecords(pool, clock, events))
        return await Scheduler(pool, recurring, clock).run_once()

    # 11:00 UTC on May 10 is May 11 in Kiritimati (UTC+14): only there has the date passed.
    run = await scheduler_at(datetime(2031, 5, 10, 11, tzinfo=UTC))
    assert run.failed == 0 and run.overdue >= 1
    await early.shows("invoice.overdue")
    assert await late.types() == ["invoice.created"]
    [child_id] = [
        row["id"]
        for row in await pool.fetch(
            "SELECT id FROM invoices WHERE invoice_parent_id = $1", template["id"]
        )
    ]
    child = Watch(api, pool, utc.headers, child_id)
    assert await child.types() == ["invoice.created", "recurring.invoice_generated"]
    await child.shows("recurring.invoice_generated")
    await scheduler_at(datetime(2031, 5, 11, 12, tzinfo=UTC))
    await scheduler_at(datetime(2031, 5, 12, 12, tzinfo=UTC))
    await late.shows("invoice.overdue")  # once, however many passes see it overdue
    await early.shows("invoice.overdue")
    for record in never:
        assert await Watch(api, pool, utc.headers, record["id"]).types() == [
            f"{record['type']}.created"
        ]
    # A new due date is a new deadline: its passing is announced again.
    await late.do("/set-due-date", {"due_date": "2031-06-01"})
    await scheduler_at(datetime(2031, 5, 20, 12, tzinfo=UTC))
    assert len(await announced(pool, late.subject, "invoice.overdue")) == 1
    await scheduler_at(datetime(2031, 6, 2, 12, tzinfo=UTC))
    await late.shows("invoice.overdue", 2)
    assert (await late.types())[-3:] == ["invoice.overdue", "invoice.updated", "invoice.overdue"]


async def test_recipients_and_customers_announce_what_recipients_shows(api, make_setup, billing):
    setup = await make_setup()
    pool, h = billing.app[POOL], setup.headers

    async def shown(recipient_id: int) -> Any:
        status, answer = await api("GET", f"{V1}/recipients/{recipient_id}", h)
        assert status == 200, answer
        return answer["data"]

    status, made = await api(
        "POST",
        f"{V1}/recipients",
        h,
        {"company_entity": "Globex Überseehandel €", "organisation_id": setup.organisation_id},
    )
    assert status == 201, made
    subject = f"recipient:{made['data']['id']}"
    assert await announced(pool, subject, "recipient.created") == [made["data"]]
    status, _ = await api("PATCH", f"{V1}/recipients/{made['data']['id']}", h, {"phone": "555"})
    assert status == 200
    last = await shown(made["data"]["id"])
    assert await announced(pool, subject, "recipient.updated") == [last]
    assert (await api("DELETE", f"{V1}/recipients/{made['data']['id']}", h))[0] == 204
    assert await announced(pool, subject, "recipient.deleted") == [last]

    status, customer = await api("POST", f"{V1}/customers", h, {"company_name": "Initech"})
    assert status == 201, customer
    customer_id = customer["data"]["id"]
    subject = f"recipient:{customer_id}"
    assert await announced(pool, subject, "recipient.created") == [await shown(customer_id)]
    # Named by a paid invoice, the customer is archived: gone, as far as the API goes.
    paid = await created_invoice(api, setup, invoice_recipient_id=customer_id, status="paid")
    before = await shown(customer_id)
    assert before["total_invoiced"] == paid["total"]
    assert (await api("DELETE", f"{V1}/customers/{customer_id}", h))[0] == 204
    assert await announced(pool, subject, "recipient.deleted") == [before]
    assert [kind for kind, _ in await events_about(pool, subject)] == [
        "recipient.created",
        "recipient.deleted",
    ]


async def test_a_failed_action_writes_no_event(api, make_setup, billing):
    setup = await make_setup()
    pool, h = billing.app[POOL], setup.headers
    invoice = await created_invoice(api, setup, scheduled_date="2025-06-01", due_date="2025-06-30")
    watch = Watch(api, pool, h, invoice["id"])
    attempts = [
        ("POST", "/pay", {"amount": "1.00"}, {}, 409),  # a draft is not paid
        ("POST", "/decline", None, {}, 409),  # an invoice is not declined
        ("PATCH", "", {"due_date": "2025-05-01"}, {}, 422),
        ("POST", "/set-due-date", {"due_date": "2025-05-01"}, {}, 422),
        ("PATCH", "", {"notes": "late"}, {"If-Match": '"0.0"'}, 412),
        ("POST", "/convert", {"type": "recurring"}, {}, 422),
        ("DELETE", "", None, {"If-Match": '"0.0"'}, 412),
    ]
    for method, path, body, headers, expected in attempts:
        status, answer = await api(method, f"{V1}/invoices/{watch.id}{path}", h | headers, body)
        assert status == expected, (path, answer)
    await watch.do("/approve", {})
    await watch.do("/send", {})
    before = await events_about(pool, watch.subject)
    for body, headers, expected in [
        ({"amount": "1000.00"}, {}, 422),  # more than the balance
        ({"amount": "1.001"}, {}, 422),
        ({"amount": "1.00"}, {"If-Match": '"0.0"'}, 412),
    ]:
        status, answer = await api("POST", f"{V1}/invoices/{watch.id}/pay", h | headers, body)
        assert status == expected, answer
    assert (await api("POST", f"{V1}/invoices/{watch.id}/approve", h, {}))[0] == 409
    assert await events_about(pool, watch.subject) == before
    assert await watch.types() == [
        "invoice.created",
        "invoice.approved",
        "invoice.pdf_ready",
        "invoice.sent",
    ]
    subject = f"recipient:{setup.recipient_id}"
    assert (await api("PATCH", f"{V1}/recipients/{setup.recipient_id}", h, {"email": "no"}))[
        0
    ] == 422
    # Named by an invoice: InvoiceMee's delete refuses.
    assert (await api("DELETE", f"{V1}/recipients/{setup.recipient_id}", h))[0] == 409
    assert [kind for kind, _ in await events_about(pool, subject)] == ["recipient.created"]


async def endpoint(
    billing: Any, company_id: int, events: list[str], *, enabled: bool = True
) -> int:
    """A webhook endpoint, written as the webhooks API writes one (its secret sealed)."""
    box = SecretBox(billing.app[SETTINGS].webhook_secret_key.get_secret_value())
    return int(
        await billing.app[POOL].fetchval(
            "INSERT INTO webhook_endpoints (company_id, url, events, enabled, secret) "
            "VALUES ($1, 'https://receiver.example/hooks', $2, $3, $4) RETURNING id",
            company_id,
            events,
            enabled,
            box.seal(new_secret(), company_id),
        )
    )


async def delivered(pool: Any, endpoint_id: int) -> list[tuple[str, str | None, str]]:
    rows = await pool.fetch(
        "SELECT e.type, d.subject, d.status FROM webhook_deliveries d "
        "JOIN events e ON e.seq = d.event_seq WHERE d.endpoint_id = $1 ORDER BY e.seq",
        endpoint_id,
    )
    return [(row["type"], row["subject"], row["status"]) for row in rows]


async def test_each_event_is_queued_once_for_every_endpoint_subscribed_to_it(
    api, make_setup, billing
):
    setup, other = await make_setup(), await make_setup()
    pool = billing.app[POOL]
    everything = await endpoint(billing, setup.company_id, ["*"])
    invoices = await endpoint(billing, setup.company_id, ["invoice.*"])
    paid = await endpoint(billing, setup.company_id, ["invoice.paid", "quote.sent"])
    recipients = await endpoint(billing, setup.company_id, ["recipient.created"])
    disabled = await endpoint(billing, setup.company_id, ["*"], enabled=False)
    foreign = await endpoint(billing, other.company_id, ["*"])
    invoice = await created_invoice(api, setup, status="sent")
    watch = Watch(api, pool, setup.headers, invoice["id"])
    await watch.do("/pay", {"amount": invoice["total"]})
    subject = watch.subject
    pending = [
        (kind, subject, "pending")
        for kind in ("invoice.created", "invoice.payment_recorded", "invoice.paid")
    ]
    assert await delivered(pool, everything) == pending
    assert await delivered(pool, invoices) == pending
    assert await delivered(pool, paid) == [("invoice.paid", subject, "pending")]
    assert await delivered(pool, recipients) == []
    status, made = await api(
        "POST",
        f"{V1}/recipients",
        setup.headers,
        {"company_entity": "Hooli", "organisation_id": setup.organisation_id},
    )
    assert status == 201
    recipient = (("recipient.created", f"recipient:{made['data']['id']}", "pending"),)
    assert await delivered(pool, recipients) == list(recipient)
    assert await delivered(pool, everything) == pending + list(recipient)
    assert await delivered(pool, invoices) == pending
    assert await delivered(pool, disabled) == []
    assert await delivered(pool, foreign) == []


async def test_concurrent_payments_announce_each_payment_and_one_settlement(
    api, make_setup, billing
):
    setup = await make_setup()
    pool = billing.app[POOL]
    items = [{"label": "Work", "quantity": 1, "price": 100, "tax_percentage": 0}]
    invoice = await created_invoice(api, setup, status="sent", items=items)
    assert invoice["total"] == "100.00"
    path = f"{V1}/invoices/{invoice['id']}/pay"
    answers = await asyncio.gather(
        *(api("POST", path, setup.headers, {"amount": "10.00"}) for _ in range(12))
    )
    statuses = Counter(status for status, _ in answers)
    assert statuses[200] == 10 and sum(statuses.values()) == 12, statuses
    payments = await pool.fetchval(
        "SELECT count(*) FROM payments WHERE invoice_id = $1", invoice["id"]
    )
    watch = Watch(api, pool, setup.headers, invoice["id"])
    assert Counter(await watch.types()) == {
        "invoice.created": 1,
        "invoice.payment_recorded": payments,
        "invoice.paid": 1,
    }
    assert payments == 10
    await watch.shows("invoice.paid")
    assert (await watch.types())[-1] == "invoice.paid"


def documented_event_types() -> list[str]:
    """docs/api.md's "### Events" table: each family's row, its types in backticks."""
    section = API_MD.read_text().split("### Events\n", 1)[1].split("\n### ", 1)[0]
    found = []
    for row in re.findall(r"^\| `(\w+)` \| (.+) \|$", section, re.MULTILINE):
        family, types = row
        found += [f"{family}.{verb}" for verb in re.findall(r"`(\w+)`", types)]
    return found


def test_the_documented_events_are_the_catalogue_the_code_emits():
    """The catalogue is what the tests above see emitted, and what endpoints may subscribe to."""
    assert documented_event_types() == list(EVENT_TYPES)
