"""The three reports end to end through the gateway, as JSON and as CSV: a company's invoices
at two VAT rates, one partly paid, and what the ageing, tax and revenue reports then say;
a member's token refused."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

pytestmark = pytest.mark.stack
V1 = "/api/v1"
LINES = [
    {"description": "Consulting", "quantity": 10, "unit_price": 100, "tax_percentage": 19},
    {"description": "Books", "quantity": 2, "unit_price": 50, "tax_percentage": 7},
]  # 1000.00 + 190.00 and 100.00 + 7.00: 1297.00


async def test_reports_as_json_and_csv_through_the_gateway(stack, send, http, new_client):
    owner = await new_client()
    _, company = await send("POST", f"{V1}/companies", owner.token, {"name": "Reports GmbH"})
    company_id = company["data"]["id"]
    _, invoicer = await send(
        "POST",
        f"{V1}/invoicers",
        owner.token,
        {"company_entity": "Reports GmbH", "currency": "EUR"},
    )
    _, customer = await send(
        "POST", f"{V1}/customers", owner.token, {"company_name": "Acme", "email": "a@acme.example"}
    )
    status, created = await send(
        "POST",
        f"{V1}/invoices",
        owner.token,
        {
            "invoicer_id": invoicer["data"]["id"],
            "customer_id": customer["data"]["id"],
            "issue_date": "2025-03-03",
            "due_date": "2025-04-02",
            "items": LINES,
        },
    )
    assert status == 201, created
    invoice_id = created["data"]["id"]
    assert (await send("POST", f"{V1}/invoices/{invoice_id}/approve", owner.token, {}))[0] == 200
    status, paid = await send(
        "POST",
        f"{V1}/invoices/{invoice_id}/pay",
        owner.token,
        {"amount": "297.00", "paid_date": "2025-03-20"},
    )
    assert status == 200, paid
    scope = f"company_id={company_id}"

    status, aging = await send("GET", f"{V1}/reports/aging?as_of=2025-05-01&{scope}", owner.token)
    assert status == 200, aging
    (eur,) = aging["data"]["currencies"]
    assert eur["currency"] == "EUR"
    assert eur["totals"]["days_1_30"] == "1000.00"  # 29 days past due on 2025-05-01
    assert eur["totals"]["total"] == "1000.00"
    assert eur["customers"][0]["customer_name"] == "Acme"

    status, tax = await send(
        "GET", f"{V1}/reports/tax?from=2025-01-01&to=2025-03-31&{scope}", owner.token
    )
    assert status == 200, tax
    assert {(g["rate"], g["taxable_amount"], g["vat"]) for g in tax["data"]["groups"]} == {
        ("19.0000", "1000.00", "190.00"),
        ("7.0000", "100.00", "7.00"),
    }
    status, cash = await send(
        "GET", f"{V1}/reports/tax?from=2025-01-01&to=2025-03-31&basis=cash&{scope}", owner.token
    )
    assert status == 200, cash
    # 297.00 of 1297.00 paid: that share of each VAT group.
    assert {(g["rate"], g["vat"]) for g in cash["data"]["groups"]} == {
        ("19.0000", "43.51"),  # 190 * 297 / 1297 = 43.507...
        ("7.0000", "1.60"),  # 7 * 297 / 1297 = 1.603...
    }

    status, revenue = await send(
        "GET", f"{V1}/reports/revenue?from=2025-01-01&to=2025-12-31&group=quarter&{scope}",
        owner.token,
    )  # fmt: skip
    assert status == 200, revenue
    first = revenue["data"]["periods"][0]
    assert (first["period"], first["invoiced"], first["collected"], first["outstanding"]) == (
        "2025-Q1", "1297.00", "297.00", "1000.00",
    )  # fmt: skip

    for path, key in (
        (f"aging?as_of=2025-05-01&{scope}", "total"),
        (f"tax?from=2025-01-01&to=2025-03-31&{scope}", "vat"),
        (f"revenue?from=2025-01-01&to=2025-12-31&group=quarter&{scope}", "outstanding"),
    ):
        headers = {"Authorization": f"Bearer {owner.token}", "Accept": "text/csv"}
        async with http.get(f"{stack.base_url}{V1}/reports/{path}", headers=headers) as answer:
            assert answer.status == 200, await answer.text()
            assert answer.content_type == "text/csv"
            rows = list(csv.DictReader(io.StringIO(await answer.text())))
        assert rows and key in rows[0], rows
    async with http.get(
        f"{stack.base_url}{V1}/reports/aging?as_of=2025-05-01&format=csv&{scope}",
        headers={"Authorization": f"Bearer {owner.token}"},
    ) as answer:
        rows = list(csv.DictReader(io.StringIO(await answer.text())))
    assert [(r["customer_name"], r["total"]) for r in rows] == [
        ("Acme", "1000.00"),
        ("Total", "1000.00"),
    ]

    member = await new_client()
    status, _ = await send(
        "POST", f"{V1}/companies/{company_id}/members", owner.token,
        {"email": member.email, "role": "member"},
    )  # fmt: skip
    assert status == 201
    status, refused = await send("GET", f"{V1}/reports/aging?{scope}", member.token)
    assert status == 403, refused
    status, future = await send(
        "GET", f"{V1}/reports/aging?as_of={date.today().replace(year=date.today().year + 1)}&{scope}",
        owner.token,
    )  # fmt: skip
    assert status == 422 and "as_of" in future["errors"]
