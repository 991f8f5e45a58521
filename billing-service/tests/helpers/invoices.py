"""Invoice bodies and checks the billing-service invoice tests share."""

from __future__ import annotations


def body_for(setup, **overrides):
    return {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "scheduled_date": "2025-06-01",
        "due_date": "2025-06-30",
        "items": [{"label": "Design", "quantity": 10, "price": 100, "tax_percentage": 10}],
    } | overrides


WORK = {"label": "Work", "quantity": 1, "price": 10}


def draft(setup, **fields):
    """An invoice body: the recipient, one line, and the fields under test."""
    return {"invoice_recipient_id": setup.recipient_id, "items": [WORK]} | fields


async def created_invoice(api, setup, **overrides):
    status, answer = await api("POST", "/api/v1/invoices", setup.headers, draft(setup, **overrides))
    assert status == 201, answer
    return answer["data"]


def assert_422_on(status, answer, field):
    assert status == 422, answer
    assert field in answer["errors"], answer
    assert answer["error_code"] == "VALIDATION_ERROR"


def invoice_body(setup, **fields):
    return {
        "invoicer_id": setup.invoicer_id,
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_payment_detail_id": setup.payment_detail_id,
        "currency": "USD",
        "scheduled_date": "2025-06-01",
        "due_date": "2025-06-30",
        "items": [{"label": "Web Development", "unit": "hour", "quantity": 40, "price": 150}],
    } | fields


async def approved_invoice(api, setup, body):
    """The invoice `body` creates, approved: the answer of its approval."""
    status, created = await api("POST", "/api/v1/invoices", setup.headers, body)
    assert status == 201, created
    path = f"/api/v1/invoices/{created['data']['id']}/approve"
    status, approved = await api("POST", path, setup.headers)
    assert status == 200, approved
    return approved["data"]
