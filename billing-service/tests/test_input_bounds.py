"""Issue 8 in billing-service: text, dates, terms, JSON depth, path ids and cursors bounded
where they are read (a JSON 4xx naming the field, never a 500); invoice numbers unique per
company and type; conversions never copy a number."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import asyncpg
import pytest

from billing_service.app import MIGRATIONS
from shared.db import apply_migrations, create_pool

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


# --- unique invoice numbers ---------------------------------------------------------------


async def test_explicit_invoice_numbers_are_unique_per_company_and_type(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    first = await created_invoice(api, setup, label="ACME-2025-001")
    status, answer = await api("POST", "/api/v1/invoices", h, draft(setup, label="ACME-2025-001"))
    assert_422_on(status, answer, "label")
    assert answer["message"] == "The label has already been taken."
    status, answer = await api(
        "POST", "/api/v1/invoices", h, draft(setup, invoice_number="ACME-2025-001")
    )
    assert_422_on(status, answer, "label")
    # Another type, or another company, may use the same number.
    status, quote_answer = await api(
        "POST", "/api/v1/quotes", h, draft(setup, label="ACME-2025-001")
    )
    assert status == 201, quote_answer
    other = await make_setup()
    assert (await created_invoice(api, other, label="ACME-2025-001"))["label"] == "ACME-2025-001"
    # Renaming another invoice onto the number is refused too.
    second = await created_invoice(api, setup)
    status, answer = await api(
        "PATCH", f"/api/v1/invoices/{second['id']}", h, {"label": "ACME-2025-001"}
    )
    assert_422_on(status, answer, "label")
    # A deleted invoice keeps its number: it is never issued again.
    assert (await api("DELETE", f"/api/v1/invoices/{first['id']}", h))[0] == 204
    status, answer = await api("POST", "/api/v1/invoices", h, draft(setup, label="ACME-2025-001"))
    assert_422_on(status, answer, "label")
    # Keeping one's own number on an update is no conflict.
    status, answer = await api(
        "PATCH", f"/api/v1/invoices/{second['id']}", h, {"label": second["label"]}
    )
    assert status == 200, answer


async def test_concurrent_creates_with_one_number_give_one_201(api, make_setup):
    setup = await make_setup()
    results = await asyncio.gather(
        *(
            api("POST", "/api/v1/invoices", setup.headers, draft(setup, label="RACE-1"))
            for _ in range(6)
        )
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 422, 422, 422, 422, 422], results
    for status, answer in results:
        if status == 422:
            assert answer["errors"] == {"label": ["The label has already been taken."]}


async def test_generated_numbers_skip_numbers_clients_chose(api, make_setup):
    setup = await make_setup()
    chosen = await created_invoice(api, setup, label="INV-0001")
    generated = await created_invoice(api, setup)
    assert (chosen["label"], generated["label"]) == ("INV-0001", "INV-0002")


async def test_conversions_get_a_fresh_number_of_their_own_type(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    source = await created_invoice(api, setup, label="CUSTOM-7")
    labels = {}
    for target, extra in (("quote", {}), ("recurring", {"recurring": "monthly"}), ("template", {})):
        status, answer = await api(
            "POST", f"/api/v1/invoices/{source['id']}/convert", h, {"type": target} | extra
        )
        assert status == 201, answer
        labels[target] = answer["data"]["label"]
    assert labels == {"quote": "QUO-0001", "recurring": "REC-0001", "template": "TPL-0001"}
    status, estimate = await api("POST", "/api/v1/estimates", h, draft(setup, label="EST-CUSTOM"))
    assert status == 201, estimate
    status, answer = await api(
        "POST", f"/api/v1/estimates/{estimate['data']['id']}/convert-to-invoice", h
    )
    assert status == 201, answer
    assert answer["data"]["invoice_number"] == "INV-0001"


# --- the migration and existing duplicates ------------------------------------------------


def copy_migrations(target: Path, below: int) -> None:
    for path in MIGRATIONS.iterdir():
        if path.suffix == ".sql" and int(path.name.split("_")[0]) < below:
            (target / path.name).write_text(path.read_text())


async def test_migration_renumbers_existing_duplicates_then_enforces_uniqueness(
    postgres_server, tmp_path
):
    name = f"billing_dups_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_server.format(database="test"))
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    pool = await create_pool(postgres_server.format(database=name), min_size=1, max_size=2)
    try:
        copy_migrations(tmp_path, below=7)
        await apply_migrations(pool, tmp_path)
        company = await pool.fetchval(
            "INSERT INTO companies (name, slug, created_by) VALUES ('A', 'a', 1) RETURNING id"
        )
        insert = (
            "INSERT INTO invoices (company_id, public_id, type, status, label, currency,"
            " scheduled_date, created_by, deleted_at) VALUES ($1, $2, $3, 'draft', $4, 'USD',"
            " '2025-01-01', 1, $5) RETURNING id"
        )
        rows = [
            ("invoice", "INV-0001", None),
            ("invoice", "INV-0001", None),
            ("invoice", "INV-0001", "2025-02-01"),  # soft-deleted: still holds the number
            ("quote", "INV-0001", None),  # another type: no duplicate
        ]
        ids = []
        for kind, label, deleted in rows:
            deleted_at = None if deleted is None else date.fromisoformat(deleted)
            ids.append(
                await pool.fetchval(insert, company, uuid.uuid4().hex, kind, label, deleted_at)
            )
        # A label the first renaming would pick is taken already.
        taken = f"INV-0001-{ids[1]}"
        await pool.fetchval(insert, company, uuid.uuid4().hex, "invoice", taken, None)

        assert await apply_migrations(pool, MIGRATIONS) == [
            version for version in _versions() if version >= 7
        ]
        labels = dict(await pool.fetch("SELECT id, label FROM invoices WHERE id = ANY($1)", ids))
        assert labels[ids[0]] == "INV-0001"
        assert labels[ids[1]] == f"INV-0001-{ids[1]}-{ids[1]}"
        assert labels[ids[2]] == f"INV-0001-{ids[2]}"
        assert labels[ids[3]] == "INV-0001"
        events = await pool.fetch(
            "SELECT invoice_id, event FROM invoice_history ORDER BY invoice_id"
        )
        assert [(row["invoice_id"], row["event"]) for row in events] == [
            (ids[1], "renumbered_duplicate:INV-0001"),
            (ids[2], "renumbered_duplicate:INV-0001"),
        ]
        with pytest.raises(asyncpg.UniqueViolationError):
            await pool.fetchval(insert, company, uuid.uuid4().hex, "invoice", "INV-0001", None)
    finally:
        await pool.close()


def _versions() -> list[int]:
    return sorted(int(path.name.split("_")[0]) for path in MIGRATIONS.glob("*.sql"))


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
