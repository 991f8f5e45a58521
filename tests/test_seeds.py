"""The seed documents' own examples, replayed through the gateway as their clients send them:
InvoiceMee's quickstart, lifecycle and recurring templates, InvoiceFlow's reference.
test_seeds_innovatech.py replays INNOVATECH's client portal."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.stack


async def test_invoicemee_quickstart_and_lifecycle(stack, http, send, login):
    email, password = stack.create_user()
    token = await login(email, password)
    _, company = await send("POST", "/api/companies", token, {"name": "Acme Ltd"})
    company_id = company["data"]["id"]
    status, invoicer = await send(
        "POST",
        "/api/invoicers",
        token,
        {
            "company_id": company_id,
            "company_entity": "Acme Ltd",
            "currency": "USD",
            "tax_rate": 20,
            "default": True,
        },
    )
    assert status == 201 and invoicer["data"]["default"] is True
    invoicer_id = invoicer["data"]["id"]
    _, detail = await send(
        "POST",
        f"/api/invoicers/{invoicer_id}/payment-details",
        token,
        {"label": "Main account", "iban": "GB33BUKB20201555555555"},
    )
    _, organisation = await send(
        "POST",
        "/api/organisations",
        token,
        {"name": "Clients", "company_id": company_id},
    )
    status, recipient = await send(
        "POST",
        "/api/recipients",
        token,
        {
            "company_entity": "Client Corp",
            "organisation_id": organisation["data"]["id"],
            "currency": "EUR",
            "default_hour_rate": 120,
            "tax_rate": 0,
            "email": "ap@clientcorp.example",
        },
    )
    assert status == 201 and recipient["data"]["default_hour_rate"] == "120.00"
    status, created = await send(
        "POST",
        "/api/invoices",
        token,
        {
            "label": "INV-2025-001",
            "invoicer_id": invoicer_id,
            "invoice_recipient_id": recipient["data"]["id"],
            "invoicer_payment_detail_id": detail["data"]["id"],
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
        },
    )
    assert status == 201
    invoice = created["data"]
    assert (invoice["label"], invoice["status"], invoice["type"], invoice["currency"]) == (
        "INV-2025-001",
        "draft",
        "invoice",
        "USD",
    )
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == (
        "6000.00",
        "1200.00",
        "7200.00",
    )
    invoice_id = invoice["id"]
    status, approved = await send(
        "POST",
        f"/api/invoices/{invoice_id}/approve",
        token,
        {"approved_at": "2025-06-02T09:00:00Z"},
    )
    assert (approved["data"]["status"], approved["data"]["approved_at"]) == (
        "approved",
        "2025-06-02T09:00:00Z",
    )
    status, partial = await send(
        "POST",
        f"/api/invoices/{invoice_id}/pay",
        token,
        {"amount": 2000.00, "reference": "TXN-1", "payment_method": "bank_transfer"},
    )
    assert status == 200 and partial["data"]["balance_due"] == "5200.00"
    status, sent = await send(
        "POST",
        f"/api/invoices/{invoice_id}/send",
        token,
        {
            "template": "invoice-issued",
            "custom_message": "Please review at your earliest convenience.",
        },
    )
    assert (status, sent) == (
        200,
        {"success": True, "message": "Invoice email queued successfully."},
    )
    status, paid = await send(
        "POST",
        f"/api/invoices/{invoice_id}/pay",
        token,
        {"amount": 5200.00, "reference": "TXN-987654", "payment_method": "bank_transfer"},
    )
    assert paid["data"]["status"] == "paid"
    assert paid["data"]["payments"][-1]["reference"] == "TXN-987654"
    status, recurring = await send(
        "POST",
        f"/api/invoices/{invoice_id}/convert",
        token,
        {"type": "recurring", "recurring": "monthly", "scheduled_date": "2025-07-01"},
    )
    assert status == 201
    assert (
        recurring["data"]["type"],
        recurring["data"]["label"],
        recurring["data"]["recurring"],
    ) == ("recurring", "INV-2025-001", "monthly")  # the seed's example: the label is kept
    # where no record of the target type has it (docs/api.md, "Numbers")
    status, listed = await send("GET", "/api/invoices?status=paid&type=invoice", token)
    assert [i["id"] for i in listed["data"]] == [invoice_id]
    assert listed["meta"]["total"] == 1 and listed["meta"]["current_page"] == 1


async def test_invoiceflow_reference(stack, http, send, login):
    email, password = stack.create_user()
    token = await login(email, password)
    _, first = await send("POST", "/api/v1/companies", token, {"name": "My Company"})
    _, second = await send("POST", "/api/v1/companies", token, {"name": "Another Team"})
    status, teams = await send("GET", "/api/v1/teams", token)
    assert [(t["name"], t["is_current"], t["is_owner"]) for t in teams["data"]] == [
        ("My Company", True, True),
        ("Another Team", False, True),
    ]
    status, switched = await send(
        "POST", "/api/v1/teams/switch", token, {"team_id": second["data"]["id"]}
    )
    assert switched["message"] == "Switched to Another Team"
    status, current = await send("GET", "/api/v1/teams/current", token)
    assert current["data"]["name"] == "Another Team"
    status, customer = await send(
        "POST",
        "/api/v1/customers",
        token,
        {
            "company_name": "Acme Corp",
            "contact_name": "John Doe",
            "email": "john@acme.com",
            "phone": "+1 555-0100",
        },
    )
    assert status == 201 and customer["message"] == "Customer created"
    assert customer["data"]["company_name"] == "Acme Corp"
    status, product = await send(
        "POST",
        "/api/v1/products",
        token,
        {"type": "service", "name": "Web Development", "price": 150.00, "unit": "hour"},
    )
    assert status == 201 and (product["data"]["price"], product["data"]["unit"]) == (
        "150.00",
        "hour",
    )
    _, widget = await send(
        "POST",
        "/api/v1/products",
        token,
        {"type": "product", "name": "Widget", "price": 5, "stock_quantity": 10},
    )
    status, adjusted = await send(
        "POST",
        f"/api/v1/products/{widget['data']['id']}/adjust-stock",
        token,
        {"adjustment": -5, "reason": "Sold to customer"},
    )
    assert status == 200 and adjusted["data"]["stock_quantity"] == "5"
    status, invoice = await send(
        "POST",
        "/api/v1/invoices",
        token,
        {
            "customer_id": customer["data"]["id"],
            "issue_date": "2025-01-15",
            "due_date": "2025-02-15",
            "currency": "USD",
            "items": [{"description": "Web Development", "quantity": 40, "unit_price": 150}],
            "notes": "Thank you!",
        },
    )
    assert status == 201 and invoice["message"] == "Invoice created"
    data = invoice["data"]
    assert (
        data["invoice_number"],
        data["status"],
        data["customer_id"],
        data["subtotal"],
        data["total"],
    ) == ("INV-0001", "draft", customer["data"]["id"], "6000.00", "6000.00")
    assert (data["issue_date"], data["due_date"]) == ("2025-01-15", "2025-02-15")
    status, emailed = await send("POST", f"/api/v1/invoices/{data['id']}/send-email", token)
    assert (status, emailed["message"]) == (200, "Invoice sent to john@acme.com")
    status, sent = await send("GET", "/api/v1/invoices?status=sent", token)
    assert sent["data"][0]["customer"] == {
        "id": customer["data"]["id"],
        "name": "Acme Corp",
        "email": "john@acme.com",
    }
    status, again = await send("POST", f"/api/v1/invoices/{data['id']}/send-email", token)
    assert status == 429  # one send per invoice per minute
    status, link = await send("POST", f"/api/v1/invoices/{data['id']}/send-payment-link", token)
    assert (status, link["error_code"]) == (409, "PAYMENT_PROVIDER_NOT_CONFIGURED")
    status, customers = await send("GET", "/api/v1/customers", token)
    assert customers["data"][0]["total_invoiced"] == "6000.00"
    status, estimate = await send(
        "POST",
        "/api/v1/estimates",
        token,
        {
            "customer_id": customer["data"]["id"],
            "currency": "USD",
            "items": [{"description": "Audit", "quantity": 1, "unit_price": 900}],
        },
    )
    assert status == 201
    status, converted = await send(
        "POST", f"/api/v1/estimates/{estimate['data']['id']}/convert-to-invoice", token
    )
    assert status == 201
    assert (
        converted["data"]["invoice_number"] == "INV-0002"
        and converted["message"] == "Estimate converted to invoice"
    )
    status, estimates = await send("GET", "/api/v1/estimates?status=converted", token)
    assert [e["id"] for e in estimates["data"]] == [estimate["data"]["id"]]


async def test_invoicemee_recurring_template_and_create_next(stack, http, send, login):
    email, password = stack.create_user()
    token = await login(email, password)
    await send("POST", "/api/companies", token, {"name": "Retainers Ltd"})
    _, customer = await send(
        "POST",
        "/api/v1/customers",
        token,
        {"company_name": "Monthly Client", "email": "ap@monthly.example", "currency": "EUR"},
    )
    _, invoice = await send(
        "POST",
        "/api/invoices",
        token,
        {
            "customer_id": customer["data"]["id"],
            "items": [{"label": "Retainer", "quantity": 1, "price": 500, "tax_percentage": 19}],
        },
    )
    # InvoiceMee's convert example, without a date: the template starts today.
    status, template = await send(
        "POST",
        f"/api/invoices/{invoice['data']['id']}/convert",
        token,
        {"type": "recurring", "recurring": "monthly"},
    )
    assert status == 201 and template["data"]["type"] == "recurring"
    template_id = template["data"]["id"]
    status, first = await send("POST", f"/api/invoices/{template_id}/create-next", token)
    assert status == 201
    status, second = await send("POST", f"/api/invoices/{template_id}/create-next", token)
    assert status == 201
    one, two = first["data"], second["data"]
    assert (one["type"], one["status"], one["invoice_parent_id"]) == (
        "invoice",
        "draft",
        template_id,
    )
    assert two["invoice_parent_id"] == template_id and one["total"] == two["total"] == "595.00"
    first_end = one["period"].split(" - ")[1]
    second_start = two["period"].split(" - ")[0]
    from datetime import date, timedelta

    assert date.fromisoformat(second_start) == date.fromisoformat(first_end) + timedelta(days=1)
    assert two["scheduled_date"] == second_start
    status, current = await send("GET", f"/api/invoices/{template_id}", token)
    assert current["data"]["run_count"] == 2
    assert current["data"]["next_run_date"] > two["scheduled_date"]
