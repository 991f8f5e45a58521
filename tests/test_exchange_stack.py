"""CSV export and import end to end through the gateway: customers and products exported
from one company (streamed), imported into another as they are, exported again equal; an
accountant's token exporting invoices; an import over 1 MiB with its Idempotency-Key replayed."""

from __future__ import annotations

import csv
import io

import pytest

pytestmark = pytest.mark.stack
V1 = "/api/v1"


def _rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode(), newline="")))


def _without_ids(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k not in ("id", "created_at")} for row in rows]


async def _company(send, token: str, name: str) -> int:
    status, company = await send("POST", f"{V1}/companies", token, {"name": name})
    assert status == 201, company
    return int(company["data"]["id"])


async def test_export_then_import_round_trip_through_the_gateway(stack, send, http, new_client):
    owner = await new_client()
    source = await _company(send, owner.token, "Source GmbH")
    target = await _company(send, owner.token, "Target GmbH")
    for body in (
        {"company_name": "=Formula AG", "email": "a@formula.example", "tax_rate": "19",
         "company_address": "Line 1\nLine 2", "currency": "EUR", "country_code": "DE"},
        {"company_name": "Plain, Ltd", "contact_name": "+Ann \"A\"", "phone": "+44 20 1"},
    ):  # fmt: skip
        status, answer = await send(
            "POST", f"{V1}/customers", owner.token, body | {"company_id": source}
        )
        assert status == 201, answer
    for body in (
        {"name": "Widget", "type": "product", "sku": "W-1", "price": "9.99",
         "stock_quantity": "5"},
        {"name": "-Hours", "price": "120", "unit": "hour", "active": False},
    ):  # fmt: skip
        status, answer = await send(
            "POST", f"{V1}/products", owner.token, body | {"company_id": source}
        )
        assert status == 201, answer

    for kind in ("customers", "products"):
        async with http.get(
            f"{stack.base_url}{V1}/exports/{kind}",
            params={"company_id": source},
            headers=owner.headers,
        ) as response:
            assert response.status == 200, await response.text()
            assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
            assert response.headers["Content-Disposition"].startswith(
                f'attachment; filename="{kind}-company-{source}-'
            )
            assert response.headers.get("Transfer-Encoding") == "chunked"  # streamed
            exported = await response.read()
        rows = _rows(exported)
        assert len(rows) == 2
        async with http.post(
            f"{stack.base_url}{V1}/imports/{kind}",
            params={"company_id": target},
            data=exported,
            headers=owner.headers | {"Content-Type": "text/csv"},
        ) as response:
            answer = await response.json()
            assert response.status == 201, answer
        assert answer["data"]["created"] == 2 and answer["data"]["ignored_columns"] == []
        async with http.get(
            f"{stack.base_url}/api/exports/{kind}",  # the /api alias
            params={"company_id": target},
            headers=owner.headers,
        ) as response:
            again = _rows(await response.read())
        assert _without_ids(again) == _without_ids(rows)
    status, customers = await send("GET", f"{V1}/customers?company_id={target}", owner.token)
    names = sorted(customer["company_name"] for customer in customers["data"])
    assert names == ["=Formula AG", "Plain, Ltd"]  # the values, not their neutralised form


async def test_an_accountant_exports_and_a_large_import_replays(stack, send, http, new_client):
    owner = await new_client()
    company = await _company(send, owner.token, "Books GmbH")
    status, tokens = await send(
        "POST",
        f"{V1}/tokens",
        None,
        {"email": owner.email, "password": owner.password, "device_name": "accountant",
         "abilities": ["reports:read"]},
    )  # fmt: skip
    assert status == 201, tokens
    accountant = {"Authorization": f"Bearer {tokens['token']}"}
    async with http.get(
        f"{stack.base_url}{V1}/exports/invoices", params={"company_id": company}, headers=accountant
    ) as response:
        assert response.status == 200
        assert (await response.read()).startswith(b"id,invoice_number,type,status,issue_date")
    async with http.get(
        f"{stack.base_url}{V1}/customers", params={"company_id": company}, headers=accountant
    ) as response:
        assert response.status == 403  # reports:read reads no customers

    # 2,000 products with long descriptions: over the 1 MiB of other bodies, under 5 MiB.
    lines = ["name,description,price"] + [f"Item {n},{'x' * 700},{n}.50" for n in range(2000)]
    body = ("\r\n".join(lines) + "\r\n").encode()
    assert len(body) > 1024 * 1024
    results = []
    for _ in range(2):
        async with http.post(
            f"{stack.base_url}{V1}/imports/products",
            params={"company_id": company},
            data=body,
            headers=owner.headers
            | {"Content-Type": "text/csv", "Idempotency-Key": "stack-import-1"},
        ) as response:
            assert response.status == 201, await response.text()
            results.append((await response.json(), response.headers.get("Idempotent-Replayed")))
    assert results[0][0] == results[1][0] and results[1][1] == "true"
    assert results[0][0]["data"]["created"] == 2000
    status, products = await send(
        "GET", f"{V1}/products?company_id={company}&per_page=1", owner.token
    )
    assert products["meta"]["total"] == 2000  # created once
