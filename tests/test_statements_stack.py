"""A customer's statement end to end through the gateway: the JSON, the PDF as the customer
reads it, and the send, delivered by the running mailer with the PDF attached."""

from __future__ import annotations

import asyncio
import email
import io
from email import policy

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.stack
V1 = "/api/v1"
LINE = {"description": "Consulting", "quantity": 10, "unit_price": 100}  # 1190.00 at 19 %
WAIT = 60


@pytest.fixture
async def customer(new_client, send):
    """A company, its invoicer (EUR, 19 %), a customer with an invoice of 1190.00 paid 500.00."""
    owner = await new_client()
    await send("POST", f"{V1}/companies", owner.token, {"name": "Ledger GmbH"})
    _, invoicer = await send(
        "POST",
        f"{V1}/invoicers",
        owner.token,
        {"company_entity": "Ledger GmbH", "currency": "EUR", "tax_rate": 19, "default": True},
    )
    _, created = await send(
        "POST", f"{V1}/customers", owner.token, {"company_name": "Acme", "email": "ap@acme.example"}
    )
    customer_id = created["data"]["id"]
    status, invoice = await send(
        "POST",
        f"{V1}/invoices",
        owner.token,
        {"invoicer_id": invoicer["data"]["id"], "customer_id": customer_id, "items": [LINE]},
    )
    assert status == 201, invoice
    invoice_id = invoice["data"]["id"]
    await send("POST", f"{V1}/invoices/{invoice_id}/approve", owner.token, {})
    status, paid = await send(
        "POST", f"{V1}/invoices/{invoice_id}/pay", owner.token, {"amount": "500.00"}
    )
    assert status == 200, paid
    return owner, customer_id, invoice["data"]["label"]


async def test_statement_json_pdf_and_send_through_the_gateway(
    stack, http, send, new_client, customer
):
    owner, customer_id, label = customer
    path = f"{V1}/customers/{customer_id}/statement?currency=EUR"
    status, answer = await send("GET", path, owner.token)
    assert status == 200, answer
    shown = answer["data"]
    assert [(line["type"], line["balance"]) for line in shown["lines"]] == [
        ("invoice", "1190.00"),
        ("payment", "690.00"),
    ]
    assert (shown["closing_balance"], shown["owed"], shown["aging"]["current"]) == (
        "690.00",
        "690.00",
        "690.00",
    )
    status, balance = await send("GET", f"{V1}/customers/{customer_id}/balance", owner.token)
    assert balance["data"]["balances"][0]["outstanding"] == shown["closing_balance"]

    headers = owner.headers | {"Accept": "application/pdf"}
    async with http.get(stack.base_url + path, headers=headers) as response:
        assert response.status == 200
        assert response.content_type == "application/pdf"
        pdf = await response.read()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    position = 0
    for part in (
        "Ledger GmbH",
        "STATEMENT",
        "Acme",
        "Opening balance",
        "€0.00",
        label,
        "€1,190.00",
        "€690.00",
        "Closing balance",
        "€690.00",
        "Balance due",
    ):
        found = text.find(part, position)
        assert found >= 0, (part, text[position:])
        position = found + len(part)

    reader = await new_client(["recipients:read"])
    status, refused = await send("POST", f"{path.split('?')[0]}/send", reader.token, {})
    assert (status, refused["error_code"]) == (403, "FORBIDDEN")

    status, sent = await send(
        "POST", f"{V1}/customers/{customer_id}/statement/send", owner.token, {"currency": "EUR"}
    )
    assert status == 202, sent
    assert sent["data"]["addresses"] == ["ap@acme.example"]
    outbox = (
        "SELECT o.id || ' ' || o.status FROM email_outbox o "
        f"JOIN statement_sends s ON s.send_id = o.send_id WHERE s.id = {sent['data']['id']}"
    )
    async with asyncio.timeout(WAIT):  # the mailer runs every 2 s
        row = stack.sql("billing", outbox)
        while not row.endswith(" sent"):
            await asyncio.sleep(0.5)
            row = stack.sql("billing", outbox)
    outbox_id = int(row.split()[0])
    eml = stack.compose_command(
        "exec",
        "-T",
        "billing-service",
        "cat",
        f"/var/lib/billing/mail/{outbox_id:08d}-customer-statement.eml",
    ).stdout
    message = email.message_from_string(eml, policy=policy.default)
    assert message["Subject"] == "Statement of account from Ledger GmbH"
    (attachment,) = list(message.iter_attachments())
    attached = PdfReader(io.BytesIO(attachment.get_content()))
    assert "€690.00" in "".join(page.extract_text() for page in attached.pages)
