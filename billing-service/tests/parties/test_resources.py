"""Organisations, invoicers, recipients and customers, products: CRUD, scope, rules."""

from __future__ import annotations

import asyncio

import pytest


async def test_organisations_crud_and_tenant_scope(api, make_setup, auth):
    setup = await make_setup()
    h = setup.headers
    status, org = await api(
        "POST", "/api/v1/organisations", h, {"name": "Big Clients", "company_id": setup.company_id}
    )
    assert status == 201 and org["data"]["slug"] == "big-clients"
    org_id = org["data"]["id"]
    status, again = await api(
        "POST", "/api/v1/organisations", h, {"name": "Big Clients", "company_id": setup.company_id}
    )
    assert again["data"]["slug"] == "big-clients-2"
    status, updated = await api("PATCH", f"/api/v1/organisations/{org_id}", h, {"name": "VIP"})
    assert updated["data"]["name"] == "VIP"
    stranger = await auth.bearer()
    assert (await api("GET", f"/api/v1/organisations/{org_id}", stranger))[0] == 404
    status, denied = await api(
        "POST", "/api/v1/organisations", stranger, {"name": "X", "company_id": setup.company_id}
    )
    assert (status, denied["error_code"]) == (403, "COMPANY_ACCESS_DENIED")
    status, listed = await api(
        "GET", f"/api/v1/organisations?company_id={setup.company_id}", stranger
    )
    assert status == 403
    # The organisation with a recipient cannot go; the empty one can.
    assert (await api("DELETE", f"/api/v1/organisations/{setup.organisation_id}", h))[0] == 409
    assert (await api("DELETE", f"/api/v1/organisations/{org_id}", h))[0] == 204


async def test_invoicer_with_payment_details(api, make_setup):
    setup = await make_setup()
    status, invoicer = await api("GET", f"/api/v1/invoicers/{setup.invoicer_id}", setup.headers)
    data = invoicer["data"]
    assert data["tax_rate"] == "20.00" and data["currency"] == "USD" and data["default"] is True
    assert [d["iban"] for d in data["payment_details"]] == ["GB00TEST"]
    status, body = await api(
        "POST",
        "/api/v1/invoicers",
        setup.headers,
        {"company_entity": "Other", "currency": "XYZ", "company_id": setup.company_id},
    )
    assert status == 422 and "currency" in body["errors"]
    status, second = await api(
        "POST",
        "/api/v1/invoicers",
        setup.headers,
        {"company_entity": "Second", "default": True, "company_id": setup.company_id},
    )
    status, first = await api("GET", f"/api/v1/invoicers/{setup.invoicer_id}", setup.headers)
    assert first["data"]["default"] is False  # one default per company
    status, _ = await api(
        "POST", "/api/v1/invoices", setup.headers, {"invoicer_id": setup.invoicer_id, "items": []}
    )
    assert status == 201
    assert (await api("DELETE", f"/api/v1/invoicers/{setup.invoicer_id}", setup.headers))[0] == 409
    assert (await api("DELETE", f"/api/v1/invoicers/{second['data']['id']}", setup.headers))[
        0
    ] == 204


async def test_recipient_rules_and_total_invoiced(api, make_setup, auth):
    setup = await make_setup()
    other = await make_setup()
    status, body = await api(
        "POST",
        "/api/v1/recipients",
        setup.headers,
        {"company_entity": "X", "organisation_id": other.organisation_id},
    )
    # Issue 9: another tenant's organisation is 403 COMPANY_ACCESS_DENIED (was 422).
    assert (status, body["error_code"]) == (403, "COMPANY_ACCESS_DENIED")
    assert "organisation_id" in body["errors"]
    status, created = await api(
        "POST",
        "/api/v1/invoices",
        setup.headers,
        {
            "invoice_recipient_id": setup.recipient_id,
            "items": [{"label": "Work", "quantity": 2, "price": "100.00", "tax_percentage": 0}],
        },
    )
    invoice_id = created["data"]["id"]
    status, recipient = await api("GET", f"/api/v1/recipients/{setup.recipient_id}", setup.headers)
    assert recipient["data"]["total_invoiced"] == "0.00"  # a draft is not invoiced yet
    await api("POST", f"/api/v1/invoices/{invoice_id}/approve", setup.headers, {})
    status, recipient = await api("GET", f"/api/v1/recipients/{setup.recipient_id}", setup.headers)
    assert recipient["data"]["total_invoiced"] == "200.00"
    assert (await api("DELETE", f"/api/v1/recipients/{setup.recipient_id}", setup.headers))[
        0
    ] == 409


async def test_invoiceflow_customers(api, auth):
    headers = await auth.bearer()
    await api("POST", "/api/v1/companies", headers, {"name": "Flow Co"})
    status, created = await api(
        "POST",
        "/api/v1/customers",
        headers,
        {
            "company_name": "Acme Corp",
            "contact_name": "John Doe",
            "email": "john@acme.com",
            "phone": "+1 555-0100",
        },
    )
    assert status == 201 and created["message"] == "Customer created"
    customer = created["data"]
    assert (customer["company_name"], customer["contact_name"], customer["email"]) == (
        "Acme Corp",
        "John Doe",
        "john@acme.com",
    )
    await api(
        "POST",
        "/api/v1/invoices",
        headers,
        {
            "customer_id": customer["id"],
            "issue_date": "2025-01-15",
            "due_date": "2025-02-15",
            "currency": "USD",
            "items": [{"description": "Web", "quantity": 1, "unit_price": 1500}],
        },
    )
    status, listed = await api("GET", "/api/v1/customers", headers)
    assert [c["company_name"] for c in listed["data"]] == ["Acme Corp"]
    assert listed["data"][0]["total_invoiced"] == "0.00"
    status, one = await api("GET", f"/api/v1/customers/{customer['id']}", headers)
    assert [i["invoice_number"] for i in one["data"]["recent_invoices"]] == ["INV-0001"]
    assert one["data"]["recent_payments"] == []


async def test_products_filters_and_stock(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    status, service = await api(
        "POST",
        "/api/v1/products",
        h,
        {"type": "service", "name": "Web Development", "price": 150.00, "unit": "hour"},
    )
    assert status == 201
    assert (service["data"]["price"], service["data"]["stock_quantity"]) == ("150.00", None)
    status, widget = await api(
        "POST",
        "/api/v1/products",
        h,
        {"type": "product", "name": "Widget", "sku": "W-1", "price": "9.99", "stock_quantity": 10},
    )
    assert widget["data"]["stock_quantity"] == "10"
    widget_id = widget["data"]["id"]
    await api("PATCH", f"/api/v1/products/{service['data']['id']}", h, {"active": False})
    status, found = await api("GET", "/api/v1/products?search=w-1", h)
    assert [p["name"] for p in found["data"]] == ["Widget"]
    status, found = await api("GET", "/api/v1/products?type=service&active=false", h)
    assert [p["name"] for p in found["data"]] == ["Web Development"]
    status, body = await api(
        "POST",
        f"/api/v1/products/{widget_id}/adjust-stock",
        h,
        {"adjustment": -11, "reason": "Sold"},
    )
    assert status == 422 and "adjustment" in body["errors"]
    status, body = await api(
        "POST", f"/api/v1/products/{service['data']['id']}/adjust-stock", h, {"adjustment": 1}
    )
    assert status == 422
    status, body = await api(
        "POST", f"/api/v1/products/{widget_id}/adjust-stock", h, {"adjustment": "abc"}
    )
    assert status == 422 and "adjustment" in body["errors"]
    # 15 concurrent sales of one from a stock of 10: exactly 10 succeed, never below zero.
    results = await asyncio.gather(
        *(
            api(
                "POST",
                f"/api/v1/products/{widget_id}/adjust-stock",
                h,
                {"adjustment": -1, "reason": "Sold to customer"},
            )
            for _ in range(15)
        )
    )
    assert [status for status, _ in results].count(200) == 10
    status, product = await api("GET", f"/api/v1/products/{widget_id}", h)
    assert product["data"]["stock_quantity"] == "0"
    assert len(product["data"]["stock_movements"]) == 11  # the initial stock and ten sales


@pytest.mark.parametrize(
    ("method", "path", "ability"),
    [
        ("GET", "/api/v1/organisations", "organisations:read"),
        ("POST", "/api/v1/organisations", "organisations:create"),
        ("GET", "/api/v1/invoicers", "invoicers:read"),
        ("DELETE", "/api/v1/invoicers/1", "invoicers:delete"),
        ("GET", "/api/v1/recipients", "recipients:read"),
        ("GET", "/api/v1/customers", "recipients:read"),
        ("POST", "/api/v1/customers", "recipients:create"),
        ("GET", "/api/v1/products", "products:read"),
        ("POST", "/api/v1/products/1/adjust-stock", "products:update"),
        ("GET", "/api/v1/invoices", "invoices:read"),
        ("POST", "/api/v1/invoices", "invoices:create"),
        ("POST", "/api/v1/invoices/1/pay", "invoices:pay"),
        ("POST", "/api/v1/invoices/1/send", "invoices:send"),
        ("GET", "/api/v1/quotes", "quotes:read"),
        ("GET", "/api/v1/estimates", "quotes:read"),
        ("GET", "/api/v1/teams", "teams:read"),
        ("POST", "/api/v1/teams/switch", "teams:update"),
        ("GET", "/api/v1/companies/1/members", "companies:read"),
    ],
)
async def test_every_route_checks_its_ability(api, auth, method, path, ability):
    lacking = await auth.bearer(["profile:read"])
    status, body = await api(method, path, lacking, {})
    assert (status, body["error_code"]) == (403, "FORBIDDEN")
    assert ability in body["message"]


@pytest.mark.parametrize(
    "resource", ["organisations", "invoicers", "recipients", "customers", "products"]
)
async def test_another_tenants_records_are_404(api, make_setup, resource):
    setup, other = await make_setup(), await make_setup()
    ids = {
        "organisations": setup.organisation_id,
        "invoicers": setup.invoicer_id,
        "recipients": setup.recipient_id,
        "customers": setup.recipient_id,
    }
    if resource == "products":
        _, product = await api("POST", "/api/v1/products", setup.headers, {"name": "Mine"})
        ids["products"] = product["data"]["id"]
    path = f"/api/v1/{resource}/{ids[resource]}"
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        status, body = await api(method, path, other.headers, {"name": "x"})
        assert (status, body["error_code"]) == (404, "NOT_FOUND"), method
    _, listed = await api("GET", f"/api/v1/{resource}", other.headers)
    assert ids[resource] not in [row["id"] for row in listed["data"]]
    status, _ = await api("GET", f"/api/v1/{resource}", setup.headers)
    assert status == 200


async def test_more_decimal_places_than_kept_is_422(api, make_setup):
    setup = await make_setup()
    status, body = await api(
        "POST",
        "/api/v1/invoices",
        setup.headers,
        {
            "invoice_recipient_id": setup.recipient_id,
            "items": [{"label": "x", "quantity": "1.23456", "price": 1}],
        },
    )
    assert status == 422
    assert body["errors"]["items.0.quantity"] == [
        "The items.0.quantity field must have at most 4 decimal places."
    ]


async def test_a_customer_is_filed_in_the_company_its_body_names(api, make_setup):
    setup, stranger = await make_setup(), await make_setup()
    _, second = await api("POST", "/api/v1/companies", setup.headers, {"name": "Second Ltd"})
    for company_id in (second["data"]["id"], setup.company_id):
        status, created = await api(
            "POST",
            "/api/v1/customers",
            setup.headers,
            {"company_id": company_id, "company_name": "Meant for it"},
        )
        assert status == 201 and created["data"]["company_id"] == company_id, created
    status, refused = await api(
        "POST",
        "/api/v1/customers",
        setup.headers,
        {"company_id": stranger.company_id, "company_name": "Not mine"},
    )
    assert status == 403 and refused["error_code"] == "COMPANY_ACCESS_DENIED"


async def test_concurrent_organisations_of_one_name_get_their_own_slugs(api, make_setup):
    setup = await make_setup()
    results = await asyncio.gather(
        *(
            api("POST", "/api/v1/organisations", setup.headers, {"name": "Northern Branch"})
            for _ in range(8)
        )
    )
    assert [status for status, _ in results] == [201] * 8
    slugs = {body["data"]["slug"] for _, body in results}
    assert len(slugs) == 8 and "northern-branch" in slugs


async def test_a_company_id_repeated_on_an_update_must_be_the_records_own(api, make_setup):
    setup, stranger = await make_setup(), await make_setup()
    _, invoice = await api(
        "POST",
        "/api/v1/invoices",
        setup.headers,
        {"invoicer_id": setup.invoicer_id, "invoice_recipient_id": setup.recipient_id},
    )
    _, product = await api("POST", "/api/v1/products", setup.headers, {"name": "Widget"})
    paths = [
        f"/api/v1/invoices/{invoice['data']['id']}",
        f"/api/v1/recipients/{setup.recipient_id}",
        f"/api/v1/customers/{setup.recipient_id}",
        f"/api/v1/buyers/{setup.recipient_id}",
        f"/api/v1/products/{product['data']['id']}",
        f"/api/v1/invoicers/{setup.invoicer_id}/payment-details/{setup.payment_detail_id}",
    ]
    for path in paths:
        status, body = await api("PUT", path, setup.headers, {"company_id": stranger.company_id})
        assert (status, body.get("error_code")) == (403, "COMPANY_ACCESS_DENIED"), (path, body)
        status, body = await api("PUT", path, setup.headers, {"company_id": 2**62})
        assert status == 422 and "company_id" in body["errors"], (path, body)
        status, body = await api("PUT", path, setup.headers, {"company_id": setup.company_id})
        assert status == 200, (path, body)


async def test_a_payment_detail_names_the_account_to_pay(api, make_setup):
    """A bodiless POST made an empty payment detail: now the account (an IBAN or an account
    number) is required, and the 422 names the field."""
    setup = await make_setup()
    details = f"/api/v1/invoicers/{setup.invoicer_id}/payment-details"
    for body in (None, {}, {"label": "Empty"}, {"iban": None}, {"iban": " ", "swift": "X"}):
        status, answer = await api("POST", details, setup.headers, body)
        assert status == 422, (body, answer)
        assert answer["errors"]["iban"] == [
            "The iban field is required when account number is not present."
        ], body
    status, made = await api("POST", details, setup.headers, {"account_number": "12345678"})
    assert status == 201 and made["data"]["account_number"] == "12345678"
    detail = f"{details}/{made['data']['id']}"
    status, changed = await api("PATCH", detail, setup.headers, {})  # an update may be empty
    assert status == 200 and changed["data"]["account_number"] == "12345678"
    status, refused = await api("PATCH", detail, setup.headers, {"default": None})
    assert (status, refused["errors"]) == (
        422,
        {"default": ["The default field must not be null."]},
    )
