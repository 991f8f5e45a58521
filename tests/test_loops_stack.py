"""Poison rows planted in the database never stop another tenant's e-mail or scheduled
invoices, also after billing-service restarts (through the gateway, as a client sees it)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.stack
WAIT = 120  # seconds: the scheduler's interval is 30 s; an upper bound, not a timing assertion


async def tenant(new_client, send):
    """A company with an invoicer and a customer with an e-mail address: (token, references)."""
    client = await new_client()
    token = client.token
    await send("POST", "/api/v1/companies", token, {"name": "Loops Ltd"})
    _, invoicer = await send(
        "POST",
        "/api/v1/invoicers",
        token,
        {"company_entity": "Loops Ltd", "currency": "EUR", "tax_rate": 19},
    )
    _, customer = await send(
        "POST", "/api/v1/customers", token, {"company_name": "Client AG", "email": "ap@client.ag"}
    )
    return token, {"invoicer_id": invoicer["data"]["id"], "customer_id": customer["data"]["id"]}


async def invoice(send, token, references, **fields) -> int:
    items = [{"description": "Work", "quantity": 1, "unit_price": 100}]
    body = references | {"items": items}
    status, created = await send("POST", "/api/v1/invoices", token, body | fields)
    assert status == 201, created
    return created["data"]["id"]


async def emailed_invoice(send, token, references) -> int:
    invoice_id = await invoice(send, token, references)
    status, body = await send("POST", f"/api/v1/invoices/{invoice_id}/send", token, {})
    assert status == 200, body
    return invoice_id


async def until(stack, statement: str, wanted: str) -> None:
    async with asyncio.timeout(WAIT):
        value = stack.sql("billing", statement)
        while value != wanted:
            await asyncio.sleep(0.5)
            value = stack.sql("billing", statement)


async def answering(send, token) -> None:
    """Wait for billing-service to answer through the gateway again."""
    async with asyncio.timeout(WAIT):
        status, _ = await send("GET", "/api/v1/companies", token)
        while status != 200:
            await asyncio.sleep(0.5)
            status, _ = await send("GET", "/api/v1/companies", token)


def in_service(stack, path: str) -> str:
    """GET a billing-service ops endpoint from inside its container (not behind the gateway)."""
    code = f"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8000{path}').read().decode())"
    return stack.compose_command("exec", "-T", "billing-service", "python", "-c", code).stdout


async def test_poison_rows_never_stop_other_tenants_even_after_a_restart(stack, new_client, send):
    today = datetime.now(UTC).date().isoformat()
    poisoned, poisoned_customer = await tenant(new_client, send)
    mail = await emailed_invoice(send, poisoned, poisoned_customer)
    template = await invoice(
        send, poisoned, poisoned_customer, type="recurring", recurring="monthly"
    )
    # Scheduled for tomorrow, so the running scheduler cannot make it due before it is
    # poisoned; the UPDATE below brings it to today together with the poison.
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    scheduled = await invoice(
        send, poisoned, poisoned_customer, status="scheduled", scheduled_date=tomorrow
    )
    # Rows written before validation existed: a header with a line break and an e-mail whose
    # template no longer exists, a template whose dates overflow, a version no update survives.
    # Written while billing is stopped, so the process started after them is the one that meets
    # them (a running mailer could fail the e-mail, and count it, before a restart).
    stack.compose_command("stop", "billing-service")
    stack.sql(
        "billing",
        f"UPDATE invoices SET label = E'INV\\nBcc: thief@evil.example' WHERE id = {mail};"
        f"UPDATE email_outbox SET template = 'retired-template', status = 'pending', "
        f"next_attempt_at = now() - interval '1 day' WHERE invoice_id = {mail};"
        f"UPDATE invoices SET scheduled_date = '0001-01-01', due_date = '9999-12-31', "
        f"anchor_date = '{today}', next_run_date = '{today}' WHERE id = {template};"
        f"UPDATE invoices SET version = 2147483647, scheduled_date = '{today}' "
        f"WHERE id = {scheduled}",
    )
    stack.compose_command("start", "billing-service")
    await answering(send, poisoned)
    healthy, healthy_customer = await tenant(new_client, send)
    good_mail = await emailed_invoice(send, healthy, healthy_customer)
    good_scheduled = await invoice(
        send, healthy, healthy_customer, status="scheduled", scheduled_date=today
    )
    await until(stack, f"SELECT status FROM email_outbox WHERE invoice_id = {good_mail}", "sent")
    await until(stack, f"SELECT status FROM invoices WHERE id = {good_scheduled}", "due")
    # The poison rows carry their failure; the loops are alive and say so.
    await until(stack, f"SELECT attempts > 0 FROM email_outbox WHERE invoice_id = {mail}", "t")
    assert (
        stack.sql(
            "billing", f"SELECT status, last_error FROM email_outbox WHERE invoice_id = {mail}"
        )
        == "pending|KeyError: 'retired-template'"
    )
    await until(stack, f"SELECT scheduler_attempts > 0 FROM invoices WHERE id = {template}", "t")
    assert stack.sql("billing", f"SELECT status FROM invoices WHERE id = {scheduled}") == (
        "scheduled"
    )
    assert '"status":"ok"' in in_service(stack, "/readyz")
    metrics = in_service(stack, "/metrics")
    assert 'billing_loop_rows_total{loop="mailer",outcome="failed"}' in metrics
    assert 'billing_loop_rows_total{loop="scheduler",outcome="failed"}' in metrics
    stack.sql("billing", f"UPDATE invoices SET status = 'cancelled' WHERE id = {template}")
