"""Invoices through billing-service's API: math, numbering, lifecycle, payments, scope."""

from __future__ import annotations

import asyncio
import json

import pytest


@pytest.fixture
async def setup(make_setup):
    return await make_setup()


async def call(billing, method, path, headers, body=None):
    response = await billing.request(method, path, json=body, headers=headers)
    text = await response.text()
    return response.status, (json.loads(text) if text else None)


def invoice_body(setup, **overrides):
    body = {
        "invoicer_id": setup.invoicer_id,
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_payment_detail_id": setup.payment_detail_id,
        "currency": "USD",
        "type": "invoice",
        "scheduled_date": "2025-06-01",
        "due_date": "2025-06-30",
        "items": [
            {
                "label": "Web Development",
                "unit": "hour",
                "quantity": 40,
                "price": 150.00,
                "tax_percentage": 20,
                "discount_percentage": False,
                "price_includes_tax": False,
                "price_includes_discount": False,
                "include": True,
            }
        ],
    }
    return body | overrides


async def test_invoicemee_example_create_approve_partial_pay_paid(billing, setup):
    status, created = await call(
        billing,
        "POST",
        "/api/v1/invoices",
        setup.headers,
        invoice_body(setup, label="INV-2025-001"),
    )
    assert status == 201, created
    invoice = created["data"]
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == (
        "6000.00",
        "1200.00",
        "7200.00",
    )
    assert (invoice["status"], invoice["label"], invoice["invoice_number"]) == (
        "draft",
        "INV-2025-001",
        "INV-2025-001",
    )
    assert invoice["items"][0]["net"] == "6000.00"
    assert "approve" in invoice["available_actions"]
    invoice_id = invoice["id"]
    status, approved = await call(
        billing,
        "POST",
        f"/api/v1/invoices/{invoice_id}/approve",
        setup.headers,
        {"approved_at": "2025-06-02T09:00:00Z"},
    )
    assert status == 200 and approved["data"]["status"] == "approved"
    assert approved["data"]["approved_at"] == "2025-06-02T09:00:00Z"
    status, partial = await call(
        billing,
        "POST",
        f"/api/v1/invoices/{invoice_id}/pay",
        setup.headers,
        {"amount": "2000.00", "reference": "TXN-1", "payment_method": "bank_transfer"},
    )
    assert status == 200
    assert (partial["data"]["amount_paid"], partial["data"]["balance_due"]) == (
        "2000.00",
        "5200.00",
    )
    assert partial["data"]["status"] == "approved"
    status, too_much = await call(
        billing, "POST", f"/api/v1/invoices/{invoice_id}/pay", setup.headers, {"amount": 5200.01}
    )
    assert status == 422 and "amount" in too_much["errors"]
    status, paid = await call(
        billing,
        "POST",
        f"/api/v1/invoices/{invoice_id}/pay",
        setup.headers,
        {"amount": 5200, "reference": "TXN-987654"},
    )
    assert status == 200
    assert paid["data"]["status"] == "paid" and paid["data"]["balance_due"] == "0.00"
    assert [p["amount"] for p in paid["data"]["payments"]] == ["2000.00", "5200.00"]
    assert [
        (h["from_status"], h["to_status"])
        for h in paid["data"]["history"]
        if h["event"] in ("created", "approved", "paid")
    ] == [(None, "draft"), ("draft", "approved"), ("approved", "paid")]
    status, again = await call(
        billing, "POST", f"/api/v1/invoices/{invoice_id}/pay", setup.headers, {"amount": 1}
    )
    assert status == 409
    status, _ = await call(billing, "DELETE", f"/api/v1/invoices/{invoice_id}", setup.headers)
    assert status == 409


async def test_invoiceflow_aliases_and_generated_numbers(billing, setup):
    body = {
        "customer_id": setup.recipient_id,
        "issue_date": "2025-01-15",
        "due_date": "2025-02-15",
        "items": [{"description": "Web Development", "quantity": 40, "unit_price": 150}],
        "notes": "Thank you!",
    }
    status, first = await call(billing, "POST", "/api/v1/invoices", setup.headers, body)
    assert status == 201, first
    data = first["data"]
    assert data["invoice_number"] == "INV-0001" and data["customer_id"] == setup.recipient_id
    assert data["issue_date"] == "2025-01-15" and data["subtotal"] == "6000.00"
    assert data["currency"] == "USD"  # from the recipient
    assert first["message"] == "Invoice created"
    status, second = await call(billing, "POST", "/api/v1/invoices", setup.headers, body)
    assert second["data"]["invoice_number"] == "INV-0002"
    status, quote = await call(
        billing, "POST", "/api/v1/invoices", setup.headers, body | {"type": "quote"}
    )
    assert quote["data"]["label"] == "QUO-0001"


async def test_numbers_are_gap_free_under_concurrent_creates(billing, setup):
    body = invoice_body(setup)
    results = await asyncio.gather(
        *(call(billing, "POST", "/api/v1/invoices", setup.headers, body) for _ in range(20))
    )
    assert {status for status, _ in results} == {201}
    labels = sorted(answer["data"]["label"] for _, answer in results)
    assert labels == [f"INV-{n:04d}" for n in range(1, 21)]


async def test_concurrent_payments_never_lose_or_exceed(billing, setup):
    status, created = await call(
        billing, "POST", "/api/v1/invoices", setup.headers, invoice_body(setup)
    )
    invoice_id = created["data"]["id"]
    await call(billing, "POST", f"/api/v1/invoices/{invoice_id}/approve", setup.headers, {})
    # 7200.00 due; 30 concurrent payments of 300 can fit only 24 times.
    results = await asyncio.gather(
        *(
            call(
                billing,
                "POST",
                f"/api/v1/invoices/{invoice_id}/pay",
                setup.headers,
                {"amount": 300},
            )
            for _ in range(30)
        )
    )
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 24
    assert set(statuses) <= {200, 409, 422}
    status, final = await call(billing, "GET", f"/api/v1/invoices/{invoice_id}", setup.headers)
    assert final["data"]["amount_paid"] == "7200.00" and final["data"]["status"] == "paid"
    assert len(final["data"]["payments"]) == 24


async def test_jpy_has_no_minor_units_and_tax_inclusive_round_trips(billing, make_setup):
    setup = await make_setup(currency="JPY")
    body = invoice_body(
        setup,
        currency="JPY",
        items=[
            {
                "label": "Tea",
                "quantity": 3,
                "price": 1001,
                "tax_percentage": 10,
                "price_includes_tax": True,
            },
            {"label": "Cakes", "quantity": 1, "price": 333, "tax_percentage": 8},
        ],
    )
    status, created = await call(billing, "POST", "/api/v1/invoices", setup.headers, body)
    assert status == 201, created
    data = created["data"]
    assert data["items"][0]["total"] == "3003"  # tax-inclusive: the line total is what was asked
    assert (data["items"][0]["net"], data["items"][0]["tax"]) == ("2730", "273")
    assert (data["items"][1]["net"], data["items"][1]["tax"]) == ("333", "27")
    assert (data["subtotal"], data["tax"], data["total"]) == ("3063", "300", "3363")
    status, answer = await call(
        billing, "POST", f"/api/v1/invoices/{data['id']}/approve", setup.headers, {}
    )
    status, answer = await call(
        billing, "POST", f"/api/v1/invoices/{data['id']}/pay", setup.headers, {"amount": "1.5"}
    )
    assert status == 422 and "amount" in answer["errors"]


async def test_transitions_and_conflicts(billing, setup):
    status, created = await call(
        billing, "POST", "/api/v1/invoices", setup.headers, invoice_body(setup)
    )
    invoice_id = created["data"]["id"]
    status, _ = await call(
        billing, "POST", f"/api/v1/invoices/{invoice_id}/pay", setup.headers, {"amount": 1}
    )
    assert status == 409  # drafts are not payable
    status, _ = await call(
        billing, "POST", f"/api/v1/invoices/{invoice_id}/decline", setup.headers, {}
    )
    assert status == 409  # only quotes are declined
    status, sent = await call(
        billing,
        "POST",
        f"/api/v1/invoices/{invoice_id}/send",
        setup.headers,
        {"template": "invoice-issued", "custom_message": "Hello"},
    )
    assert (status, sent) == (
        200,
        {"success": True, "message": "Invoice email queued successfully."},
    )
    status, current = await call(billing, "GET", f"/api/v1/invoices/{invoice_id}", setup.headers)
    assert current["data"]["status"] == "sent"
    status, _ = await call(
        billing, "PUT", f"/api/v1/invoices/{invoice_id}", setup.headers, {"notes": "late edit"}
    )
    assert status == 409  # edits only in draft or scheduled
    status, cancelled = await call(
        billing, "POST", f"/api/v1/invoices/{invoice_id}/cancel", setup.headers
    )
    assert status == 200 and cancelled["data"]["status"] == "cancelled"
    status, _ = await call(billing, "POST", f"/api/v1/invoices/{invoice_id}/cancel", setup.headers)
    assert status == 409
    status, body = await call(
        billing, "POST", f"/api/v1/invoices/{invoice_id}/send-payment-link", setup.headers
    )
    assert status == 409 and body["error_code"] == "PAYMENT_PROVIDER_NOT_CONFIGURED"
    from billing_service.platform.keys import POOL

    outbox = await billing.app[POOL].fetch(
        "SELECT template, to_email, custom_message FROM email_outbox WHERE invoice_id = $1",
        invoice_id,
    )
    assert [tuple(row) for row in outbox] == [("invoice-issued", "billing@client.example", "Hello")]


async def test_if_match_guards_concurrent_edits(billing, setup):
    status, created = await call(
        billing, "POST", "/api/v1/invoices", setup.headers, invoice_body(setup)
    )
    invoice_id = created["data"]["id"]
    response = await billing.get(f"/api/v1/invoices/{invoice_id}", headers=setup.headers)
    tag = response.headers["ETag"]
    status, updated = await call(
        billing,
        "PATCH",
        f"/api/v1/invoices/{invoice_id}",
        setup.headers | {"If-Match": tag},
        {"notes": "first"},
    )
    assert status == 200 and updated["data"]["notes"] == "first"
    status, stale = await call(
        billing,
        "PATCH",
        f"/api/v1/invoices/{invoice_id}",
        setup.headers | {"If-Match": tag},
        {"notes": "second"},
    )
    assert status == 412 and stale["error_code"] == "PRECONDITION_FAILED"
