"""The mailer against a real SMTP server (aiosmtpd), and the file transport."""

from __future__ import annotations

import email
import json
import socket
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller

from billing_service.documents.keys import DOCUMENTS
from billing_service.events.keys import EVENTS
from billing_service.invoices.services.records import InvoiceRecords
from billing_service.mail.services.mailer import Mailer
from billing_service.platform.keys import POOL, SETTINGS
from billing_service.scheduling.services.recurring import RecurringService
from billing_service.scheduling.services.scheduler import Scheduler


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []  # the SMTP envelope's, per message

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def mailer_for(billing, now, **settings):
    current = billing.app[SETTINGS].model_copy(update=settings)
    return Mailer(
        billing.app[POOL], billing.app[DOCUMENTS], current, lambda: now, billing.app[EVENTS]
    )


async def sent_invoice(api, make_setup, message="Please pay by Friday."):
    setup = await make_setup()
    return setup, await send_new_invoice(api, setup, message)


async def send_new_invoice(api, setup, message="Please pay by Friday."):
    """A new invoice of the setup's company, its e-mail queued; the invoice's id."""
    _, created = await api(
        "POST",
        "/api/v1/invoices",
        setup.headers,
        {
            "invoice_recipient_id": setup.recipient_id,
            "invoicer_id": setup.invoicer_id,
            "items": [{"label": "Consulting", "quantity": 3, "price": 200, "tax_percentage": 20}],
        },
    )
    invoice_id = created["data"]["id"]
    status, _ = await api(
        "POST",
        f"/api/v1/invoices/{invoice_id}/send",
        setup.headers,
        {"template": "invoice-issued", "custom_message": message},
    )
    assert status == 200
    return invoice_id


async def isolate_outbox(billing, *invoice_ids):
    """Other tests' e-mails share the outbox table: leave only these invoices' pending."""
    await billing.app[POOL].execute(
        "UPDATE email_outbox SET status = 'sent' "
        "WHERE status = 'pending' AND (invoice_id IS NULL OR invoice_id <> ALL($1::bigint[]))",
        list(invoice_ids),
    )


async def outbox_row(billing, invoice_id):
    return await billing.app[POOL].fetchrow(
        "SELECT status, attempts, last_error, next_attempt_at FROM email_outbox "
        "WHERE invoice_id = $1",
        invoice_id,
    )


async def test_the_email_arrives_once_with_the_pdf(api, make_setup, billing, smtp):
    inbox, port = smtp
    setup, invoice_id = await sent_invoice(api, make_setup)
    await isolate_outbox(billing, invoice_id)
    mailer = mailer_for(
        billing, datetime.now(UTC), smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )
    assert await mailer.run_once() == 1
    assert await mailer.run_once() == 0  # nothing left: never sent twice
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "billing@client.example"
    assert message["Subject"] == "Invoice INV-0001 from Acme Ltd"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Please pay by Friday." in text and "$720.00" in text
    assert "INV-0001" in html and "Please pay by Friday." in html
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["INV-0001.pdf"]
    assert attachments[0].get_content().startswith(b"%PDF")
    status, invoice = await api("GET", f"/api/v1/invoices/{invoice_id}", setup.headers)
    assert "email_sent:invoice-issued" in [h["event"] for h in invoice["data"]["history"]]


async def test_smtp_down_is_retried_and_delivered_when_it_returns(api, make_setup, billing):
    setup, invoice_id = await sent_invoice(api, make_setup)
    await isolate_outbox(billing, invoice_id)
    port = free_port()  # nothing listens there yet
    now = datetime.now(UTC)
    down = mailer_for(billing, now, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    assert await down.run_once() == 1
    row = await billing.app[POOL].fetchrow(
        "SELECT status, attempts, next_attempt_at FROM email_outbox WHERE invoice_id = $1",
        invoice_id,
    )
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["next_attempt_at"] > now
    assert await down.run_once() == 0  # not due again before its backoff
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        later = mailer_for(
            billing,
            now + timedelta(minutes=5),
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_starttls=False,
        )
        assert await later.run_once() == 1
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    row = await billing.app[POOL].fetchrow(
        "SELECT status, attempts FROM email_outbox WHERE invoice_id = $1", invoice_id
    )
    assert (row["status"], row["attempts"]) == ("sent", 2)


async def test_without_smtp_the_file_transport_writes_eml(api, make_setup, billing, tmp_path):
    setup, invoice_id = await sent_invoice(api, make_setup, message="Written to disk")
    await isolate_outbox(billing, invoice_id)
    mailer = mailer_for(billing, datetime.now(UTC), smtp_host="", mail_dir=str(tmp_path))
    assert await mailer.run_once() == 1
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1 and files[0].name.endswith("-invoice-issued.eml")
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert "Written to disk" in message.get_body(("plain",)).get_content()
    assert list(tmp_path.glob("*.tmp")) == []


@pytest.mark.parametrize(
    "template",
    [
        "quote",
        "invoice-reminder",
        "invoice-due",
        "invoice-due-reminder",
        "estimate-actioned",
        "invoice-paid",
    ],
)
async def test_every_template_renders(api, make_setup, billing, tmp_path, template):
    setup = await make_setup()
    kind = "quote" if template in ("quote", "estimate-actioned") else "invoice"
    _, created = await api(
        "POST",
        "/api/v1/invoices",
        setup.headers,
        {
            "type": kind,
            "invoice_recipient_id": setup.recipient_id,
            # Due in the future (not overdue), within the ten-year payment terms (issue 8).
            "due_date": (datetime.now(UTC) + timedelta(days=90)).date().isoformat(),
            "items": [{"label": "Work", "quantity": 1, "price": 50}],
        },
    )
    invoice_id = created["data"]["id"]
    if kind == "invoice":
        await api("POST", f"/api/v1/invoices/{invoice_id}/approve", setup.headers, {})
    status, body = await api(
        "POST", f"/api/v1/invoices/{invoice_id}/send", setup.headers, {"template": template}
    )
    assert status == 200, body
    await isolate_outbox(billing, invoice_id)
    assert (
        await mailer_for(
            billing, datetime.now(UTC), smtp_host="", mail_dir=str(tmp_path)
        ).run_once()
        == 1
    )
    message = email.message_from_bytes(
        next(tmp_path.glob("*.eml")).read_bytes(), policy=policy.default
    )
    assert (
        created["data"]["label"] in message["Subject"]
        or created["data"]["label"] in message.get_body(("plain",)).get_content()
    )
    assert message.get_body(("html",)) is not None


async def test_a_poison_email_is_recorded_and_the_others_are_delivered(
    api, make_setup, billing, tmp_path
):
    _, poison_id = await sent_invoice(api, make_setup)
    other_setup, good_id = await sent_invoice(api, make_setup)
    await isolate_outbox(billing, poison_id, good_id)
    # Composing it raises (a template an older release queued), and it is first in line.
    await billing.app[POOL].execute(
        "UPDATE email_outbox SET template = 'retired-template', "
        "next_attempt_at = now() - interval '1 hour' WHERE invoice_id = $1",
        poison_id,
    )
    now = datetime.now(UTC)
    settings = {"smtp_host": "", "mail_dir": str(tmp_path), "mail_max_attempts": 2}
    assert await mailer_for(billing, now, **settings).run_once() == 2
    poison = await outbox_row(billing, poison_id)
    assert (poison["status"], poison["attempts"]) == ("pending", 1)
    assert poison["last_error"] == "KeyError: 'retired-template'"
    assert poison["next_attempt_at"] > now
    assert (await outbox_row(billing, good_id))["status"] == "sent"
    assert len(list(tmp_path.glob("*.eml"))) == 1
    # Its last attempt marks it failed, with a history entry; nothing is left to retry.
    later = mailer_for(billing, now + timedelta(minutes=5), **settings)
    assert await later.run_once() == 1
    assert await later.run_once() == 0
    poison = await outbox_row(billing, poison_id)
    assert (poison["status"], poison["attempts"]) == ("failed", 2)
    events = await billing.app[POOL].fetch(
        "SELECT event FROM invoice_history WHERE invoice_id = $1", poison_id
    )
    assert "email_failed:retired-template" in [row["event"] for row in events]


async def test_stored_line_breaks_never_make_headers(api, make_setup, billing, smtp):
    """Rows written before input validation existed: the mailer folds them to one line."""
    inbox, port = smtp
    setup, invoice_id = await sent_invoice(api, make_setup)
    await isolate_outbox(billing, invoice_id)
    pool = billing.app[POOL]
    await pool.execute(
        "UPDATE invoices SET label = 'INV-9\r\nBcc: thief@evil.example' WHERE id = $1",
        invoice_id,
    )
    await pool.execute(
        "UPDATE invoicers SET company_entity = 'Acme\nX-Spam: yes' WHERE id = $1",
        setup.invoicer_id,
    )
    mailer = mailer_for(
        billing, datetime.now(UTC), smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )
    assert await mailer.run_once() == 1
    assert inbox.recipients == [["billing@client.example"]]
    message = inbox.messages[0]
    assert message["Bcc"] is None and message["X-Spam"] is None
    subject = " ".join(message["Subject"].split())
    assert subject == "Invoice INV-9 Bcc: thief@evil.example from Acme X-Spam: yes"
    [attachment] = list(message.iter_attachments())
    assert "\n" not in attachment.get_filename()
    assert (await outbox_row(billing, invoice_id))["status"] == "sent"


async def test_an_encoded_word_in_a_label_is_sent_as_plain_text(api, make_setup, billing, smtp):
    """RFC 2047's "=?...?=" would be decoded by readers (into line breaks, too): the mailer
    writes it as text, and the message goes out."""
    inbox, port = smtp
    setup, invoice_id = await sent_invoice(api, make_setup)
    await isolate_outbox(billing, invoice_id)
    pool = billing.app[POOL]
    await pool.execute(
        "UPDATE invoices SET label = '=?utf-8?q?X=0D=0ABcc:_evil@evil.example?=' WHERE id = $1",
        invoice_id,
    )
    mailer = mailer_for(
        billing, datetime.now(UTC), smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )
    assert await mailer.run_once() == 1
    message = inbox.messages[0]
    assert message["Bcc"] is None and inbox.recipients == [["billing@client.example"]]
    [attachment] = list(message.iter_attachments())
    assert "\n" not in attachment.get_filename() and "\r" not in attachment.get_filename()
    assert (await outbox_row(billing, invoice_id))["status"] == "sent"


async def test_a_stored_address_with_a_line_break_is_refused_not_sent(
    api, make_setup, billing, smtp
):
    inbox, port = smtp
    _, invoice_id = await sent_invoice(api, make_setup)
    await isolate_outbox(billing, invoice_id)
    await billing.app[POOL].execute(
        "UPDATE email_outbox SET to_email = 'billing@client.example\nBcc: thief@evil.example' "
        "WHERE invoice_id = $1",
        invoice_id,
    )
    mailer = mailer_for(
        billing, datetime.now(UTC), smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )
    assert await mailer.run_once() == 1
    assert inbox.messages == []
    row = await outbox_row(billing, invoice_id)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"].startswith("ValueError")


async def test_over_the_company_hourly_cap_an_email_waits_in_the_outbox(
    api, make_setup, billing, tmp_path
):
    """The cap holds for every e-mail, whatever queued it: here the scheduler's auto-send."""
    capped, other = await make_setup(), await make_setup()
    manual = await send_new_invoice(api, capped)
    status, template = await api(
        "POST",
        "/api/v1/invoices",
        capped.headers,
        {
            "type": "recurring",
            "recurring": "monthly",
            "invoice_recipient_id": capped.recipient_id,
            "scheduled_date": datetime.now(UTC).date().isoformat(),
            "auto_send": True,
            "items": [{"label": "Retainer", "quantity": 1, "price": 100}],
        },
    )
    assert status == 201, template
    pool = billing.app[POOL]
    await pool.execute(
        "UPDATE invoices SET status = 'cancelled' WHERE type = 'recurring' AND id <> $1",
        template["data"]["id"],
    )
    clock = lambda: datetime.now(UTC)  # noqa: E731
    await Scheduler(pool, RecurringService(InvoiceRecords(pool, clock)), clock).run_once()
    [child] = await pool.fetch(
        "SELECT id, status FROM invoices WHERE invoice_parent_id = $1", template["data"]["id"]
    )
    assert child["status"] == "sent"
    others = await send_new_invoice(api, other)
    await isolate_outbox(billing, manual, child["id"], others)
    now = datetime.now(UTC)
    settings = {"smtp_host": "", "mail_dir": str(tmp_path), "mail_company_hourly_cap": 1}
    assert await mailer_for(billing, now, **settings).run_once() == 3
    assert [(await outbox_row(billing, i))["status"] for i in (manual, others)] == ["sent"] * 2
    waiting = await outbox_row(billing, child["id"])
    assert (waiting["status"], waiting["attempts"]) == ("pending", 0)  # deferred, not failed
    assert now + timedelta(minutes=59) < waiting["next_attempt_at"] <= now + timedelta(hours=1)
    assert await mailer_for(billing, now + timedelta(minutes=30), **settings).run_once() == 0
    assert await mailer_for(billing, now + timedelta(minutes=61), **settings).run_once() == 1
    assert (await outbox_row(billing, child["id"]))["status"] == "sent"


async def email_events(billing, invoice_id):
    rows = await billing.app[POOL].fetch(
        "SELECT type, subject, data FROM events WHERE type LIKE 'email.%' "
        "AND data->>'invoice_id' = $1 ORDER BY seq",
        str(invoice_id),
    )
    return [(row["type"], row["subject"], json.loads(row["data"])) for row in rows]


async def test_a_sent_email_is_announced_as_an_event(api, make_setup, billing, tmp_path):
    setup, invoice_id = await sent_invoice(api, make_setup)
    await isolate_outbox(billing, invoice_id)
    mailer = mailer_for(billing, datetime.now(UTC), smtp_host="", mail_dir=str(tmp_path))
    assert await mailer.run_once() == 1
    outbox_id = await billing.app[POOL].fetchval(
        "SELECT id FROM email_outbox WHERE invoice_id = $1", invoice_id
    )
    assert await email_events(billing, invoice_id) == [
        (
            "email.delivered",
            f"invoice:{invoice_id}",
            {
                "id": outbox_id,
                "invoice_id": invoice_id,
                "template": "invoice-issued",
                "to": "billing@client.example",
                "attempts": 1,
            },
        )
    ]


async def test_an_email_given_up_is_announced_as_an_event(api, make_setup, billing):
    setup, invoice_id = await sent_invoice(api, make_setup)
    await isolate_outbox(billing, invoice_id)
    down = mailer_for(
        billing,
        datetime.now(UTC),
        smtp_host="127.0.0.1",
        smtp_port=free_port(),  # nothing listens there
        smtp_starttls=False,
        mail_max_attempts=1,
    )
    assert await down.run_once() == 1
    [(event_type, subject, data)] = await email_events(billing, invoice_id)
    assert (event_type, subject) == ("email.failed", f"invoice:{invoice_id}")
    assert data["attempts"] == 1 and data["template"] == "invoice-issued"
    assert data["error"].startswith("SMTPConnect")
    assert (await outbox_row(billing, invoice_id))["status"] == "failed"
