"""Issue 8 in billing-service: text, dates, terms, JSON depth, path ids, cursors, money columns and
references bounded where they are read (a JSON 4xx naming the field, never a 500).
test_invoice_numbers.py covers invoice numbers."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, timedelta
from urllib.parse import quote

from ..helpers.invoices import assert_422_on, created_invoice, draft

# --- single-line and multi-line text ------------------------------------------------------


async def test_control_characters_in_single_line_text_are_a_422_naming_the_field(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    invoice = await created_invoice(api, setup)
    company = {"company_id": setup.company_id}
    cases = [
        ("/api/v1/invoices", draft(setup, label="INV\n0001"), "label"),
        ("/api/v1/invoices", draft(setup, invoice_number="INV\u20280001"), "invoice_number"),
        ("/api/v1/invoices", draft(setup, subject="Hi\r\nBcc: x@example.com"), "subject"),
        ("/api/v1/invoices", draft(setup, period="June\x1b[31m"), "period"),
        (
            "/api/v1/invoices",
            draft(setup, items=[{"label": "a\x85b", "quantity": 1, "price": 1}]),
            "items.0.label",
        ),
        ("/api/v1/invoicers", company | {"company_entity": "Acme\nLtd"}, "company_entity"),
        (
            "/api/v1/recipients",
            {
                "organisation_id": setup.organisation_id,
                "company_entity": "C",
                "contact_name": "Bob\u2029Smith",
            },
            "contact_name",
        ),
        (
            "/api/v1/recipients",
            {
                "organisation_id": setup.organisation_id,
                "company_entity": "C",
                "email": "a\x01@b.co",
            },
            "email",
        ),
        (
            "/api/v1/customers",
            {"organisation_id": setup.organisation_id, "company_name": "X\nY"},
            "company_name",
        ),
        ("/api/v1/products", company | {"name": "Widget\x7f", "type": "product"}, "name"),
        ("/api/v1/products", company | {"name": "Widget", "sku": "S\tKU"}, "sku"),
        ("/api/v1/organisations", company | {"name": "Org\r1"}, "name"),
        ("/api/v1/companies", {"name": "Acme\x9b"}, "name"),
        (f"/api/v1/invoices/{invoice['id']}/pay", {"amount": 1, "reference": "r\n1"}, "reference"),
        (
            f"/api/v1/invoices/{invoice['id']}/pay",
            {"amount": 1, "payment_method": "card\x00"},
            "payment_method",
        ),
        (f"/api/v1/invoices/{invoice['id']}/set-period", {"period": "Q1\nQ2"}, "period"),
        (
            f"/api/v1/invoicers/{setup.invoicer_id}/payment-details",
            {"iban": "GB00\n1234"},
            "iban",
        ),
        (
            f"/api/v1/recipients/{setup.recipient_id}/contacts",
            {"email": f"c-{uuid.uuid4().hex[:8]}@example.com", "name": "Client\nBcc"},
            "name",
        ),
    ]
    for path, body, field in cases:
        status, answer = await api("POST", path, h, body)
        assert_422_on(status, answer, field)
    status, answer = await api("GET", "/api/v1/invoices?search=a%0Ab", h)
    assert_422_on(status, answer, "search")


async def test_multi_line_text_keeps_line_breaks_but_no_other_control_character(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    notes = "Thank you!\r\nPay within 30 days.\n\tIBAN below."
    invoice = await created_invoice(api, setup, notes=notes, description="Internal\nnote")
    assert invoice["notes"] == notes
    for field in ("notes", "description"):
        status, answer = await api("POST", "/api/v1/invoices", h, draft(setup, **{field: "a\x1bb"}))
        assert_422_on(status, answer, field)
    status, answer = await api(
        "POST", f"/api/v1/invoices/{invoice['id']}/send", h, {"custom_message": "Hi\x07"}
    )
    assert_422_on(status, answer, "custom_message")
    status, answer = await api(
        "PATCH", f"/api/v1/invoicers/{setup.invoicer_id}", h, {"company_address": "St 1\nCity"}
    )
    assert status == 200, answer


# --- dates, payment terms, recurring runs -------------------------------------------------


async def test_every_client_date_is_within_1900_and_2999(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    invoice = await created_invoice(api, setup)
    base = f"/api/v1/invoices/{invoice['id']}"
    cases = [
        # The issue's example: accepted before, and the scheduler then backfilled 1,331 years.
        (
            f"{base}/convert",
            {"type": "recurring", "recurring": "monthly", "scheduled_date": "0694-06-11"},
            "scheduled_date",
        ),
        (f"{base}/convert", {"type": "quote", "due_date": "3000-01-01"}, "due_date"),
        ("/api/v1/invoices", draft(setup, due_date="3000-01-01"), "due_date"),
        ("/api/v1/invoices", draft(setup, scheduled_date="1899-12-31"), "scheduled_date"),
        ("/api/v1/invoices", draft(setup, issue_date="0001-01-01"), "issue_date"),
        ("/api/v1/quotes", draft(setup, valid_until="9999-12-31"), "valid_until"),
        (
            "/api/v1/invoices",
            draft(setup, type="recurring", recurring="monthly", end_date="9999-12-31"),
            "end_date",
        ),
        (
            "/api/v1/invoices",
            draft(setup, type="recurring", recurring="monthly", next_run_date="1000-01-01"),
            "next_run_date",
        ),
        (f"{base}/set-schedule-date", {"scheduled_date": "1899-12-31"}, "scheduled_date"),
        (f"{base}/set-due-date", {"due_date": "3000-01-01"}, "due_date"),
        (f"{base}/approve", {"approved_at": "0001-01-01T00:00:00Z"}, "approved_at"),
        (f"{base}/pay", {"amount": 1, "paid_date": "3000-01-01"}, "paid_date"),
        (f"{base}/pay", {"amount": 1, "paid_date": 1_700_000_000}, "paid_date"),
    ]
    for path, body, field in cases:
        status, answer = await api("POST", path, h, body)
        assert_422_on(status, answer, field)
    for query, field in (("from=0001-01-01", "from"), ("to=3000-01-01", "to")):
        status, answer = await api("GET", f"/api/v1/invoices?{query}", h)
        assert_422_on(status, answer, field)
    status, answer = await api("GET", "/api/v1/invoices?from=1900-01-01&to=2999-12-31", h)
    assert status == 200, answer


async def test_payment_terms_and_recurring_runs_are_bounded(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    issued = date(2025, 1, 1)
    longest = (issued + timedelta(days=3660)).isoformat()
    too_long = (issued + timedelta(days=3661)).isoformat()
    invoice = await created_invoice(api, setup, scheduled_date=issued.isoformat(), due_date=longest)
    assert invoice["due_date"] == longest
    status, answer = await api(
        "POST",
        "/api/v1/invoices",
        h,
        draft(setup, scheduled_date="2025-01-01", due_date=too_long),
    )
    assert_422_on(status, answer, "due_date")
    base = f"/api/v1/invoices/{invoice['id']}"
    status, answer = await api("POST", f"{base}/set-due-date", h, {"due_date": too_long})
    assert_422_on(status, answer, "due_date")
    status, answer = await api(
        "POST", f"{base}/set-schedule-date", h, {"scheduled_date": "2024-12-31"}
    )
    assert_422_on(status, answer, "scheduled_date")
    status, answer = await api("PATCH", base, h, {"due_date": too_long})
    assert_422_on(status, answer, "due_date")
    template = draft(setup, type="recurring", recurring="monthly")
    status, answer = await api("POST", "/api/v1/invoices", h, template | {"max_runs": 1001})
    assert_422_on(status, answer, "max_runs")
    status, answer = await api("POST", "/api/v1/invoices", h, template | {"max_runs": 0})
    assert_422_on(status, answer, "max_runs")
    status, answer = await api("POST", "/api/v1/invoices", h, template | {"max_runs": 1000})
    assert status == 201, answer


# --- JSON depth, path ids, the public page ------------------------------------------------


async def test_deeply_nested_json_is_a_400(billing, make_setup):
    setup = await make_setup()
    for raw in ("[" * 50_000, '{"items": ' + "[" * 5_000):
        response = await billing.post("/api/v1/invoices", data=raw, headers=setup.headers)
        answer = await response.json()
        assert response.status == 400, answer
        assert answer["error_code"] == "BAD_REQUEST"


def arabic_indic(number: int) -> str:
    return "".join(chr(0x0660 + int(digit)) for digit in str(number))


async def test_path_ids_are_ascii_digits_only(billing, api, make_setup):
    setup = await make_setup()
    h = setup.headers
    invoice = await created_invoice(api, setup)
    assert (await api("GET", f"/api/v1/invoices/{invoice['id']}", h))[0] == 200
    # int() reads Arabic-Indic digits as the same number, and '²'.isdigit() is true.
    odd_ids = ["²", "³", arabic_indic(invoice["id"]), "\uff11", "1" * 40, "0x1", "1_0"]
    routes = [
        ("GET", "/api/v1/invoices/{}"),
        ("GET", "/api/v1/quotes/{}"),
        ("GET", "/api/v1/companies/{}"),
        ("GET", "/api/v1/products/{}"),
        ("GET", "/api/v1/invoices/{}/members"),
        ("GET", f"/api/v1/invoicers/{setup.invoicer_id}/payment-details/{{}}"),
        ("DELETE", f"/api/v1/companies/{setup.company_id}/members/{{}}"),
        ("POST", "/api/v1/invoices/{}/approve"),
    ]
    for method, path in routes:
        for odd in odd_ids:
            status, answer = await api(method, path.format(quote(odd)), h, {})
            assert status == 404, (path, odd, answer)
            assert answer["error_code"] == "NOT_FOUND"


async def test_public_page_ids_outside_the_alphabet_are_404(billing):
    for odd in ("%00" * 16, "%ED%A0%80" * 16, "a" * 15 + "%00"):
        response = await billing.get(f"/i/{odd}")
        assert response.status == 404, await response.text()


# --- tampered cursors ---------------------------------------------------------------------


def cursor_of(value, last_id=1):
    raw = json.dumps([value, last_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_tampered_cursors_are_a_400(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    for _ in range(3):
        await created_invoice(api, setup)
    status, page = await api("GET", "/api/v1/invoices?per_page=2&sort=total", h)
    assert status == 200 and page["meta"]["next_cursor"]
    status, _ = await api(
        "GET", f"/api/v1/invoices?per_page=2&sort=total&cursor={page['meta']['next_cursor']}", h
    )
    assert status == 200
    tampered = [
        ("id", cursor_of("9" * 30)),
        ("id", cursor_of("1", 2**70)),
        ("id", cursor_of("²")),
        ("total", cursor_of("1e999999")),
        ("total", cursor_of("-1e999999")),
        ("total", cursor_of("NaN")),
        ("label", cursor_of("a\x00b")),
        ("label", cursor_of("\ud800")),
        ("created_at", cursor_of("0001-01-01T00:00:00+14:00")),
        ("created_at", cursor_of("2025-01-01T00:00:00")),
        ("issue_date", cursor_of("0000-01-01")),
        ("label", cursor_of(["nested"])),
        ("label", cursor_of("x", "1")),
        ("label", cursor_of("x", True)),
        ("id", "garbage!!"),
        ("id", base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode()),
    ]
    for sort, cursor in tampered:
        status, answer = await api("GET", f"/api/v1/invoices?sort={sort}&cursor={cursor}", h)
        assert status == 400, (sort, cursor, answer)
        assert answer["error_code"] == "BAD_REQUEST"


async def test_every_money_value_the_api_accepts_fits_its_column(api, make_setup):
    setup = await make_setup()
    status, created = await api(
        "POST",
        "/api/v1/customers",
        setup.headers,
        {"company_name": "Big rates", "default_hour_rate": "999999999999"},
    )
    assert status == 201, created
    status, refused = await api(
        "POST",
        "/api/v1/customers",
        setup.headers,
        {"company_name": "Too big", "default_hour_rate": "1000000000000"},
    )
    assert status == 422 and "default_hour_rate" in refused["errors"]


async def test_a_member_listed_twice_on_an_invoice_is_a_422_on_that_entry(api, make_setup):
    setup = await make_setup()
    _, members = await api("GET", f"/api/v1/companies/{setup.company_id}/members", setup.headers)
    me = members["data"][0]["user_id"]
    twice = [{"member_id": me}, {"member_id": me, "receive_invoice": True}]
    body = {
        "invoicer_id": setup.invoicer_id,
        "invoice_recipient_id": setup.recipient_id,
        "members": twice,
    }
    status, refused = await api("POST", "/api/v1/invoices", setup.headers, body)
    assert status == 422 and "members.1.member_id" in refused["errors"], refused
    _, created = await api("POST", "/api/v1/invoices", setup.headers, body | {"members": twice[:1]})
    invoice_id = created["data"]["id"]
    for method, path in (
        ("PUT", f"/api/v1/invoices/{invoice_id}"),
        ("POST", f"/api/v1/invoices/{invoice_id}/members"),
    ):
        status, refused = await api(method, path, setup.headers, {"members": twice})
        assert status == 422 and "members.1.member_id" in refused["errors"], (method, refused)


async def test_a_stock_adjustment_finer_than_the_column_is_a_422(api, make_setup):
    setup = await make_setup()
    _, product = await api(
        "POST",
        "/api/v1/products",
        setup.headers,
        {"name": "Widget", "type": "product", "price": 10, "stock_quantity": 5},
    )
    path = f"/api/v1/products/{product['data']['id']}/adjust-stock"
    status, refused = await api("POST", path, setup.headers, {"adjustment": "0.00001"})
    assert status == 422 and "adjustment" in refused["errors"], refused
    status, _ = await api("POST", path, setup.headers, {"adjustment": "0.0001"})
    assert status == 200


async def test_an_invoice_cannot_be_its_own_parent(api, make_setup):
    setup = await make_setup()
    body = {"invoicer_id": setup.invoicer_id, "invoice_recipient_id": setup.recipient_id}
    _, created = await api("POST", "/api/v1/invoices", setup.headers, body)
    invoice_id = created["data"]["id"]
    status, refused = await api(
        "PUT", f"/api/v1/invoices/{invoice_id}", setup.headers, {"invoice_parent_id": invoice_id}
    )
    assert status == 422 and "invoice_parent_id" in refused["errors"], refused
