"""Accounts receivable end to end through the gateway: a credit note drafted, issued, listed
and downloaded; a refund; a payment across invoices with its credit; a token without the
credit-note abilities refused; two allocations racing for one balance."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

pytestmark = pytest.mark.stack
V1 = "/api/v1"
LINE = {"description": "Consulting", "quantity": 10, "unit_price": 100}  # 1190.00 at 19 %


@pytest.fixture
async def books(new_client, send):
    """A company, its invoicer (19 %), a customer and a way to issue invoices of 1190.00."""
    owner = await new_client()
    await send("POST", f"{V1}/companies", owner.token, {"name": "Books GmbH"})
    _, invoicer = await send(
        "POST",
        f"{V1}/invoicers",
        owner.token,
        {"company_entity": "Books GmbH", "currency": "EUR", "tax_rate": 19},
    )
    _, customer = await send(
        "POST", f"{V1}/customers", owner.token, {"company_name": "Acme", "email": "a@acme.example"}
    )

    async def issue() -> dict:
        status, created = await send(
            "POST",
            f"{V1}/invoices",
            owner.token,
            {
                "invoicer_id": invoicer["data"]["id"],
                "customer_id": customer["data"]["id"],
                "items": [LINE],
            },
        )
        assert status == 201, created
        status, approved = await send(
            "POST", f"{V1}/invoices/{created['data']['id']}/approve", owner.token, {}
        )
        assert status == 200, approved
        return approved["data"]

    return owner, customer["data"]["id"], issue


async def test_credit_note_refund_and_payment_through_the_gateway(books, send, new_client):
    owner, customer_id, issue = books
    invoice = await issue()
    status, paid = await send(
        "POST", f"{V1}/invoices/{invoice['id']}/pay", owner.token, {"amount": "1190.00"}
    )
    assert status == 200, paid

    status, note = await send(
        "POST",
        f"{V1}/invoices/{invoice['id']}/credit-notes",
        owner.token,
        {"reason": "Two hours not delivered", "items": [LINE | {"quantity": 2}]},
    )
    assert status == 201, note
    note = note["data"]
    assert (note["type"], note["label"], note["total"]) == ("credit_note", "CN-0001", "238.00")
    status, issued = await send("POST", f"{V1}/invoices/{note['id']}/approve", owner.token, {})
    assert status == 200, issued
    status, listed = await send("GET", f"{V1}/invoices?type=credit_note", owner.token)
    assert [row["id"] for row in listed["data"]] == [note["id"]]
    status, link = await send("GET", f"{V1}/invoices/{note['id']}/download", owner.token)
    assert status == 200, link
    status, credited = await send("GET", f"{V1}/invoices/{invoice['id']}", owner.token)
    assert (credited["data"]["amount_credited"], credited["data"]["amount_paid"]) == (
        "238.00",
        "952.00",
    )

    status, refunded = await send(
        "POST",
        f"{V1}/invoices/{invoice['id']}/refunds",
        owner.token,
        {"amount": "52.00", "reason": "Goodwill"},
    )
    assert status == 200, refunded
    assert (refunded["data"]["status"], refunded["data"]["balance_due"]) == ("approved", "52.00")

    second = await issue()
    status, payment = await send(
        "POST",
        f"{V1}/payments",
        owner.token,
        {
            "customer_id": customer_id,
            "amount": "1300.00",
            "currency": "EUR",
            "reference": "SEPA 7",
            "allocations": [
                {"invoice_id": invoice["id"], "amount": "52.00"},
                {"invoice_id": second["id"], "amount": "1190.00"},
            ],
        },
    )
    assert status == 201, payment
    assert payment["data"]["unallocated"] == "58.00"
    status, balance = await send("GET", f"{V1}/customers/{customer_id}/balance", owner.token)
    assert status == 200, balance
    [eur] = balance["data"]["balances"]
    assert (eur["outstanding"], eur["credit_available"]) == ("0.00", "296.00")
    status, page = await send("GET", f"{V1}/payments?customer_id={customer_id}", owner.token)
    assert [row["id"] for row in page["data"]] == [payment["data"]["id"]]

    narrow = await new_client(["invoices:*"])
    status, refused = await send(
        "POST", f"{V1}/invoices/{invoice['id']}/credit-notes", narrow.token, {"reason": "x"}
    )
    assert status == 403, refused


async def test_two_allocations_racing_through_the_gateway(books, send):
    owner, customer_id, issue = books
    invoice = await issue()
    body = {
        "customer_id": customer_id,
        "amount": "700.00",
        "currency": "EUR",
        "allocations": [{"invoice_id": invoice["id"], "amount": "700.00"}],
    }
    answers = await asyncio.gather(
        *(send("POST", f"{V1}/payments", owner.token, body) for _ in range(3))
    )
    assert sorted(status for status, _ in answers) == [201, 422, 422], answers
    status, after = await send("GET", f"{V1}/invoices/{invoice['id']}", owner.token)
    assert Decimal(after["data"]["amount_paid"]) == Decimal("700.00")
