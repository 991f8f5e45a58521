"""Automatic reminders on the compose stack, through the gateway: a company sets its reminder
steps, its running scheduler reminds an overdue invoice once, with its late fee line and its
event, and the mailer delivers the reminder stating the balance with the fee."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest

from tests.test_loops_stack import tenant, until

pytestmark = pytest.mark.stack


async def test_an_overdue_invoice_is_reminded_once_with_its_fee_email_and_event(
    stack, new_client, send
):
    token, references = await tenant(new_client, send)  # a customer at ap@client.ag
    status, companies = await send("GET", "/api/v1/companies", token)
    [company_id] = [company["id"] for company in companies["data"]]
    steps = [{"days": 3, "late_fee": {"amount": "5.00"}}, {"days": 60}]
    path = f"/api/v1/companies/{company_id}/reminders"
    status, answer = await send("PUT", path, token, {"enabled": True, "steps": steps})
    assert status == 200, answer
    status, answer = await send("GET", path, token)
    assert answer["data"]["steps"][0]["template"] == "invoice-due-reminder"

    today = datetime.now(UTC).date()
    body = {
        **references,
        "scheduled_date": (today - timedelta(days=40)).isoformat(),
        "due_date": (today - timedelta(days=10)).isoformat(),
        "items": [{"description": "Work", "quantity": 1, "unit_price": 100}],
    }
    status, created = await send("POST", "/api/v1/invoices", token, body)
    assert status == 201, created
    invoice_id = created["data"]["id"]
    status, approved = await send("POST", f"/api/v1/invoices/{invoice_id}/approve", token, {})
    assert status == 200 and approved["data"]["total"] == "119.00", approved

    await until(
        stack, f"SELECT count(*) FROM invoice_reminders WHERE invoice_id = {invoice_id}", "1"
    )
    status, shown = await send("GET", f"/api/v1/invoices/{invoice_id}", token)
    data = shown["data"]
    assert data["items"][-1]["label"] == "Late fee (reminder 1)"
    assert (data["total"], data["balance_due"]) == ("124.00", "124.00")
    assert "reminder_sent:1" in [entry["event"] for entry in data["history"]]

    status, events = await send(
        "GET", f"/api/v1/events?company_id={company_id}&type=invoice.reminder_sent", token
    )
    assert status == 200, events
    [event] = [e for e in events["data"] if e["data"]["id"] == invoice_id]
    assert event["data"]["reminder"]["step"] == 1
    assert event["data"]["reminder"]["addresses"] == 1
    assert event["data"]["balance_due"] == "124.00"

    # The mailer delivers it (the file transport: an .eml file in the mail volume).
    email_id = stack.sql(
        "billing",
        f"SELECT id FROM email_outbox WHERE invoice_id = {invoice_id} "
        "AND template = 'invoice-due-reminder'",
    )
    await until(stack, f"SELECT status FROM email_outbox WHERE id = {email_id}", "sent")
    name = f"/var/lib/billing/mail/{int(email_id):08d}-invoice-due-reminder.eml"
    raw = stack.compose_command("exec", "-T", "billing-service", "cat", name).stdout
    message = email.message_from_string(raw, policy=policy.default)
    assert message["To"] == "ap@client.ag"
    text = message.get_body(("plain",)).get_content()
    assert "124.00 is still outstanding" in text  # the balance stated includes the fee
    # One reminder, one e-mail (the invoice was approved, never sent by hand).
    count = f"SELECT count(*) FROM email_outbox WHERE invoice_id = {invoice_id}"
    assert stack.sql("billing", count) == "1"
