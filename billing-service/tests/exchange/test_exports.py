"""CSV exports through billing-service's HTTP API: each export's columns and values checked
against the API's own answers for the same records, formula neutralising, the date range,
tenants, abilities and roles."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from billing_service.exchange.views import EXPORT_COLUMNS

from ..helpers.invoices import approved_invoice
from ..helpers.members import join

V1 = "/api/v1"
LINES = [
    {"label": "Design", "quantity": 2, "price": "30.50", "tax_percentage": 19},
    {"label": "Hosting", "quantity": 1, "price": 40, "tax_percentage": 7},
]


async def export(billing: Any, headers: dict[str, str], kind: str, **query: Any) -> Any:
    response = await billing.get(f"{V1}/exports/{kind}", headers=headers, params=query)
    return response


async def export_rows(
    billing: Any, headers: dict[str, str], kind: str, **query: Any
) -> list[dict[str, str]]:
    response = await export(billing, headers, kind, **query)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/csv"
    assert response.charset == "utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="{kind}-company-')
    text = (await response.read()).decode("utf-8")
    assert text.endswith("\r\n")  # RFC 4180 line ends
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert tuple(header) == EXPORT_COLUMNS[kind]
    return [dict(zip(header, row, strict=True)) for row in reader]


async def _issued(api: Any, setup: Any, scheduled: str, **fields: Any) -> dict[str, Any]:
    body = {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "currency": "EUR",
        "scheduled_date": scheduled,
        "items": LINES,
    } | fields
    return await approved_invoice(api, setup, body)


def _same_instant(cell: str, shown: str | None) -> None:
    if shown is None:
        assert cell == ""
    else:
        assert datetime.fromisoformat(cell) == datetime.fromisoformat(shown)


async def test_invoices_export_equals_the_api_records(
    billing: Any, api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    first = await _issued(api, setup, "2025-03-01", due_date="2025-03-31")
    second = await _issued(api, setup, "2025-04-15")
    status, paid = await api(
        "POST",
        f"{V1}/invoices/{first['id']}/pay",
        setup.headers,
        {"amount": "20.00", "paid_date": "2025-03-10"},
    )
    assert status == 200, paid
    status, note = await api(
        "POST", f"{V1}/invoices/{second['id']}/credit-notes", setup.headers, {"reason": "Oops"}
    )
    assert status == 201, note
    status, draft = await api(
        "POST",
        f"{V1}/invoices",
        setup.headers,
        {"invoice_recipient_id": setup.recipient_id, "items": LINES, "type": "quote"},
    )
    assert status == 201, draft  # a quote: never in the invoices export

    rows = await export_rows(billing, setup.headers, "invoices")
    assert [int(row["id"]) for row in rows] == [first["id"], second["id"], note["data"]["id"]]
    for row in rows:
        status, answer = await api("GET", f"{V1}/invoices/{row['id']}", setup.headers)
        shown = answer["data"]
        assert row["invoice_number"] == shown["invoice_number"]
        assert row["type"] == shown["type"]
        assert row["issue_date"] == shown["issue_date"]
        assert row["due_date"] == (shown["due_date"] or "")
        assert row["currency"] == shown["currency"]
        assert int(row["customer_id"]) == shown["customer_id"]
        assert row["customer_name"] == "Client Corp"
        assert row["customer_email"] == "billing@client.example"
        for money in ("subtotal", "tax", "total", "amount_paid", "amount_credited", "balance_due"):
            assert row[money] == str(shown[money]), money
        assert row["credited_invoice_id"] == str(shown["credited_invoice_id"] or "")
        for moment in ("approved_at", "sent_at", "paid_at", "cancelled_at", "created_at"):
            _same_instant(row[moment], shown[moment])
    assert rows[0]["amount_paid"] == "20.00"
    assert Decimal(rows[0]["balance_due"]) == Decimal(rows[0]["total"]) - Decimal("20.00")
    assert rows[2]["type"] == "credit_note" and rows[2]["status"] == "draft"
    assert rows[2]["credited_invoice_id"] == str(second["id"])

    march = await export_rows(
        billing, setup.headers, "invoices", **{"from": "2025-03-01", "to": "2025-03-31"}
    )
    assert [int(row["id"]) for row in march] == [first["id"]]
    later = await export_rows(billing, setup.headers, "invoices", **{"from": "2025-04-01"})
    assert first["id"] not in [int(row["id"]) for row in later]
    assert second["id"] in [int(row["id"]) for row in later]


async def test_payments_export_equals_the_invoice_payments(
    billing: Any, api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup, "2025-05-01")
    for amount, day, method in (
        ("10.00", "2025-05-02", "=cmd|' /C calc'!A0"),
        ("5.5", "2025-06-01", "bank"),
    ):
        status, answer = await api(
            "POST",
            f"{V1}/invoices/{invoice['id']}/pay",
            setup.headers,
            {"amount": amount, "paid_date": day, "payment_method": method, "reference": "@SUM(1)"},
        )
        assert status == 200, answer
    status, answer = await api("GET", f"{V1}/invoices/{invoice['id']}", setup.headers)
    payments = answer["data"]["payments"]

    rows = await export_rows(billing, setup.headers, "payments")
    assert [int(row["id"]) for row in rows] == [payment["id"] for payment in payments]
    for row, payment in zip(rows, payments, strict=True):
        assert row["paid_date"] == payment["paid_date"]
        assert int(row["invoice_id"]) == invoice["id"]
        assert row["invoice_number"] == invoice["invoice_number"]
        assert row["currency"] == "EUR"
        assert row["amount"] == str(payment["amount"])
        assert row["amount_refunded"] == str(payment["amount_refunded"])
        # Formula-like text is neutralised with a leading quote.
        assert (
            row["payment_method"] == "'" + payment["payment_method"]
            if payment["payment_method"].startswith("=")
            else payment["payment_method"]
        )
        assert row["reference"] == "'@SUM(1)"
    assert rows[0]["payment_method"] == "'=cmd|' /C calc'!A0"
    assert rows[1]["amount"] == "5.50"
    june = await export_rows(
        billing, setup.headers, "payments", **{"from": "2025-06-01", "to": "2025-06-30"}
    )
    assert [row["paid_date"] for row in june] == ["2025-06-01"]


async def test_customers_and_products_exports_equal_the_api_records(
    billing: Any, api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    status, created = await api(
        "POST",
        f"{V1}/customers",
        setup.headers,
        {
            "company_id": setup.company_id,
            "company_name": '=HYPERLINK("http://evil.example")',
            "contact_name": '+Ann, "the" buyer',
            "email": "ann@buyer.example",
            "company_address": "1 Main St\nSpringfield",
            "currency": "EUR",
            "tax_rate": "19",
            "default_hour_rate": "80.5",
            "country_code": "DE",
            "vat_id": "DE123456789",
        },
    )
    assert status == 201, created
    status, product = await api(
        "POST",
        f"{V1}/products",
        setup.headers,
        {
            "company_id": setup.company_id,
            "name": "-Widget",
            "type": "product",
            "price": "12.5",
            "tax_rate": "7",
            "sku": "W-1",
            "stock_quantity": "3.5",
        },
    )
    assert status == 201, product

    customers = await export_rows(billing, setup.headers, "customers")
    status, listed = await api(
        "GET", f"{V1}/customers?company_id={setup.company_id}", setup.headers
    )
    by_id = {customer["id"]: customer for customer in listed["data"]}
    assert sorted(int(row["id"]) for row in customers) == sorted(by_id)
    for row in customers:
        shown = by_id[int(row["id"])]
        for column in EXPORT_COLUMNS["customers"]:
            if column == "created_at":
                _same_instant(row[column], shown[column])
                continue
            value = shown[column]
            expected = "" if value is None else str(value)
            if expected.startswith(("=", "+", "-", "@")):
                expected = "'" + expected
            assert row[column] == expected, column
    mine = next(row for row in customers if int(row["id"]) == created["data"]["id"])
    assert mine["company_name"] == '\'=HYPERLINK("http://evil.example")'
    assert mine["contact_name"] == '\'+Ann, "the" buyer'
    assert mine["company_address"] == "1 Main St\nSpringfield"
    assert (mine["tax_rate"], mine["default_hour_rate"]) == ("19.00", "80.50")

    [row] = await export_rows(billing, setup.headers, "products")
    status, shown = await api("GET", f"{V1}/products/{product['data']['id']}", setup.headers)
    shown = shown["data"]
    for column in EXPORT_COLUMNS["products"]:
        if column == "created_at":
            _same_instant(row[column], shown[column])
        elif column == "active":
            assert row[column] == ("true" if shown[column] else "false")
        elif column == "name":
            assert row[column] == "'" + shown[column]
        else:
            assert row[column] == ("" if shown[column] is None else str(shown[column])), column
    assert (row["price"], row["stock_quantity"]) == ("12.50", "3.5")

    # The day created, in the company's timezone: today is in, yesterday's range is not.
    today = datetime.fromisoformat(shown["created_at"]).date()
    range_of_today = {"from": today.isoformat(), "to": today.isoformat()}
    assert len(await export_rows(billing, setup.headers, "products", **range_of_today)) == 1
    assert await export_rows(billing, setup.headers, "products", to="2000-01-01") == []


async def test_an_export_is_one_company_and_owners_and_admins_only(
    billing: Any, api: Any, auth: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    other = await make_setup()
    await _issued(api, other, "2025-01-01")
    own = await _issued(api, setup, "2025-01-01")
    rows = await export_rows(billing, setup.headers, "invoices", company_id=setup.company_id)
    assert [int(row["id"]) for row in rows] == [own["id"]]

    # Another tenant's company: 403 COMPANY_ACCESS_DENIED; a company that exists nowhere: 422.
    response = await export(billing, setup.headers, "invoices", company_id=other.company_id)
    assert response.status == 403
    assert (await response.json())["error_code"] == "COMPANY_ACCESS_DENIED"
    response = await export(billing, setup.headers, "invoices", company_id=10**9)
    assert response.status == 422
    response = await export(billing, setup.headers, "invoices", **{"from": "2025-13-01"})
    assert response.status == 422 and "from" in (await response.json())["errors"]
    response = await export(
        billing, setup.headers, "invoices", **{"from": "2025-02-01", "to": "2025-01-01"}
    )
    assert response.status == 422 and "to" in (await response.json())["errors"]

    # A member of the company may read invoices but not export them; an admin may.
    for role, expected in (("member", 403), ("admin", 200)):
        headers = await join(api, setup, auth, role)
        response = await export(billing, headers, "customers", company_id=setup.company_id)
        assert response.status == expected, role

    # The ability: an accountant's token (`reports:read` alone) exports; `*:read` too; a token
    # with every other read ability does not.
    for abilities, expected in (
        (["reports:read"], 200),
        (["*:read"], 200),
        (["invoices:read", "recipients:read", "products:read"], 403),
    ):
        headers = await join(api, setup, auth, "admin", abilities)
        for kind in EXPORT_COLUMNS:
            response = await export(billing, headers, kind, company_id=setup.company_id)
            assert response.status == expected, (abilities, kind, await response.text())
    response = await billing.get(f"{V1}/exports/invoices")
    assert response.status == 401


async def test_a_large_export_arrives_in_chunks_in_id_order(
    billing: Any, api: Any, make_setup: Any
) -> None:
    """More rows than one cursor batch: every row once, in order, and the answer streamed
    (chunked, no Content-Length)."""
    from billing_service.exchange.services.exports import BATCH_ROWS
    from billing_service.platform.keys import POOL

    setup = await make_setup()
    count = BATCH_ROWS * 2 + 7
    await billing.app[POOL].execute(
        "INSERT INTO products (company_id, type, name, price, unit) "
        "SELECT $1, 'service', 'Service ' || n, n, 'hour' FROM generate_series(1, $2) n",
        setup.company_id,
        count,
    )
    response = await export(billing, setup.headers, "products", company_id=setup.company_id)
    assert response.status == 200
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.headers
    text = (await response.read()).decode()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == count
    assert [row["name"] for row in rows] == [f"Service {n}" for n in range(1, count + 1)]
    assert [int(row["id"]) for row in rows] == sorted(int(row["id"]) for row in rows)
    assert rows[-1]["price"] == f"{count}.00"
