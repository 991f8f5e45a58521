"""CSV imports through billing-service's HTTP API: rows validated with the API's own rules,
nothing written unless every row is valid, dry runs, limits, Idempotency-Key, other tools'
column names, duplicates, roles and abilities, and an export -> import round trip."""

from __future__ import annotations

import csv
import io
from typing import Any

from billing_service.exchange.services.imports import MAX_ROWS
from billing_service.exchange.views import EXPORT_COLUMNS
from billing_service.platform.keys import POOL
from shared.web import MAX_IMPORT_BYTES

from ..helpers.members import join

V1 = "/api/v1"
CSV = {"Content-Type": "text/csv"}


def csv_file(header: list[str], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


async def post_import(
    billing: Any,
    headers: dict[str, str],
    kind: str,
    body: bytes,
    extra: dict[str, str] | None = None,
    **query: Any,
) -> tuple[int, Any, Any]:
    response = await billing.post(
        f"{V1}/imports/{kind}",
        data=body,
        headers=headers | CSV | (extra or {}),
        params={k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items()},
    )
    return response.status, await response.json(), response.headers


async def count(billing: Any, table: str, company_id: int) -> int:
    sql = f"SELECT count(*) FROM {table} WHERE company_id = $1"
    return int(await billing.app[POOL].fetchval(sql, company_id))


async def exported(
    billing: Any, headers: dict[str, str], kind: str, company_id: int
) -> list[dict[str, str]]:
    response = await billing.get(
        f"{V1}/exports/{kind}", headers=headers, params={"company_id": company_id}
    )
    assert response.status == 200, await response.text()
    return list(csv.DictReader(io.StringIO((await response.read()).decode(), newline="")))


async def test_customers_import_under_other_tools_column_names(
    billing: Any, api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    body = csv_file(
        # Invoice Ninja's client export names (and a column no field takes).
        ["client_name", "contact_email", "address1", "city", "postal_code", "country",
         "vat_number", "currency_code", "balance"],
        [
            ["Globex GmbH", "ap@globex.example", "Hauptstr. 1", "Berlin", "10115", "DE",
             "DE123456789", "EUR", "0"],
            ["'=Initech", "", "", "", "", "", "", "", "12"],
        ],
    )  # fmt: skip
    status, answer, _ = await post_import(
        billing, setup.headers, "customers", body, company_id=setup.company_id
    )
    assert status == 201, answer
    result = answer["data"]
    assert (result["rows"], result["created"], result["dry_run"]) == (2, 2, False)
    assert result["ignored_columns"] == ["balance"]
    status, first = await api("GET", f"{V1}/customers/{result['ids'][0]}", setup.headers)
    first = first["data"]
    assert (first["company_name"], first["email"], first["address_line1"]) == (
        "Globex GmbH", "ap@globex.example", "Hauptstr. 1",
    )  # fmt: skip
    assert (first["city"], first["postcode"], first["country_code"]) == ("Berlin", "10115", "DE")
    assert (first["vat_id"], first["currency"], first["company_id"]) == (
        "DE123456789", "EUR", setup.company_id,
    )  # fmt: skip
    status, second = await api("GET", f"{V1}/customers/{result['ids'][1]}", setup.headers)
    assert second["data"]["company_name"] == "=Initech"  # the export's neutraliser stripped
    # Each created customer is announced, as POST /customers announces one.
    events = await billing.app[POOL].fetch(
        "SELECT subject FROM events WHERE company_id = $1 AND type = 'recipient.created' "
        "ORDER BY seq",
        setup.company_id,
    )
    subjects = [row["subject"] for row in events]
    assert subjects[-2:] == [f"recipient:{result['ids'][0]}", f"recipient:{result['ids'][1]}"]


async def test_products_import_under_xero_names_with_stock(
    billing: Any, api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    body = csv_file(
        ["ItemCode", "ItemName", "SalesDescription", "SalesUnitPrice", "Type", "Quantity"],
        [
            ["W-1", "Widget", "A widget", "12.5", "product", "4"],
            ["C-1", "Consulting", "", "90", "", ""],
        ],
    )
    status, answer, _ = await post_import(
        billing, setup.headers, "products", body, company_id=setup.company_id
    )
    assert status == 201, answer
    widget_id, consulting_id = answer["data"]["ids"]
    status, widget = await api("GET", f"{V1}/products/{widget_id}", setup.headers)
    widget = widget["data"]
    assert (widget["sku"], widget["name"], widget["price"]) == ("W-1", "Widget", "12.50")
    assert (widget["type"], widget["stock_quantity"]) == ("product", "4")
    assert [m["reason"] for m in widget["stock_movements"]] == ["Initial stock"]
    status, consulting = await api("GET", f"{V1}/products/{consulting_id}", setup.headers)
    assert (consulting["data"]["type"], consulting["data"]["unit"]) == ("service", "service")
    assert consulting["data"]["stock_quantity"] is None


async def test_bad_rows_write_nothing_and_are_named_by_row_and_column(
    billing: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    before = await count(billing, "recipients", setup.company_id)
    body = csv_file(
        ["Company Name", "Email", "Currency", "Tax Rate"],
        [
            ["Good Ltd", "good@example.com", "EUR", "20"],
            ["Bad Mail Ltd", "not-an-email", "EUR", ""],
            ["", "nameless@example.com", "", ""],
            ["Odd Ltd", "", "EURO", "abc"],
            ["Fine Ltd", "", "", ""],
            ["Zed Ltd", "", "ZZZ", ""],
        ],
    )
    status, answer, _ = await post_import(
        billing, setup.headers, "customers", body, company_id=setup.company_id
    )
    assert status == 422, answer
    assert answer["error_code"] == "VALIDATION_ERROR"
    errors = answer["errors"]
    # Rows as a spreadsheet numbers them (the header is row 1), columns as the file names them.
    assert set(errors) == {
        "rows.3.Email",
        "rows.4.Company Name",
        "rows.5.Currency",
        "rows.5.Tax Rate",
        "rows.7.Currency",
    }
    assert "email" in errors["rows.3.Email"][0]
    assert "required" in errors["rows.4.Company Name"][0]
    assert answer["message"].startswith("4 of 6 rows are invalid (first: row 3, column Email:")
    assert "nothing was imported" in answer["message"]
    assert await count(billing, "recipients", setup.company_id) == before

    # A service with stock: the rule POST /products applies, on its row and column.
    body = csv_file(["name", "type", "stock_quantity"], [["Support", "service", "2"]])
    status, answer, _ = await post_import(billing, setup.headers, "products", body)
    assert status == 422 and answer["errors"] == {
        "rows.2.stock_quantity": ["Services have no stock."]
    }
    assert await count(billing, "products", setup.company_id) == 0


async def test_file_level_errors(billing: Any, make_setup: Any) -> None:
    setup = await make_setup()
    cases = [
        (b"", "header row"),
        (b"Email\r\nx@example.com\r\n", "no company_name column"),
        (b"company_name\r\n", "no rows"),
        ("company_name\r\nCaf\xe9\r\n".encode("latin-1"), "UTF-8"),
        (b"company_name,client_name\r\nA,B\r\n", "are both company_name"),
        (b'company_name\r\n"unclosed\r\n', "not valid CSV"),
    ]
    for body, words in cases:
        status, answer, _ = await post_import(billing, setup.headers, "customers", body)
        assert status == 422, (body, answer)
        assert words in answer["errors"]["file"][0], (body, answer)
    body = b"company_name,email\r\nA Ltd,a@example.com,extra\r\n"
    status, answer, _ = await post_import(billing, setup.headers, "customers", body)
    assert status == 422 and list(answer["errors"]) == ["rows.2"]
    # A UTF-8 byte-order mark (as spreadsheets write) and blank lines are fine.
    body = "\ufeffcompany_name\r\n\r\nÆsir AS\r\n".encode()
    status, answer, _ = await post_import(billing, setup.headers, "customers", body)
    assert status == 201 and answer["data"]["rows"] == 1, answer


async def test_dry_run_validates_and_writes_nothing(billing: Any, make_setup: Any) -> None:
    setup = await make_setup()
    body = csv_file(["name", "price"], [["A", "1"], ["B", "2"]])
    status, answer, _ = await post_import(billing, setup.headers, "products", body, dry_run=True)
    assert status == 200, answer
    assert answer["data"] | {"ignored_columns": None} == {
        "kind": "products", "dry_run": True, "rows": 2, "created": 0, "ids": [],
        "ignored_columns": None,
    }  # fmt: skip
    assert await count(billing, "products", setup.company_id) == 0
    bad = csv_file(["name", "price"], [["A", "-1"]])
    status, answer, _ = await post_import(billing, setup.headers, "products", bad, dry_run=True)
    assert status == 422 and list(answer["errors"]) == ["rows.2.price"]


async def test_duplicates_in_the_file_and_against_existing_records(
    billing: Any, api: Any, make_setup: Any
) -> None:
    setup = await make_setup()  # its customer "Client Corp" has billing@client.example
    body = csv_file(
        ["company_name", "email"],
        [
            ["One", "new@example.com"],
            ["Two", "NEW@example.com"],
            ["Three", "Billing@Client.example"],
            ["Four", ""],
            ["Five", ""],
        ],
    )
    status, answer, _ = await post_import(billing, setup.headers, "customers", body)
    assert status == 422, answer
    assert answer["errors"] == {
        "rows.3.email": ["The e-mail NEW@example.com is also on row 2."],
        "rows.4.email": ["A customer with the e-mail Billing@Client.example exists already."],
    }
    body = csv_file(["name", "sku"], [["A", "X-1"], ["B", "x-1"]])
    status, answer, _ = await post_import(billing, setup.headers, "products", body)
    assert status == 422 and list(answer["errors"]) == ["rows.3.sku"]


async def test_limits_rows_and_bytes(billing: Any, make_setup: Any) -> None:
    setup = await make_setup()
    too_many = csv_file(["name"], [[f"P{n}"] for n in range(MAX_ROWS + 1)])
    status, answer, _ = await post_import(billing, setup.headers, "products", too_many)
    assert status == 413, answer
    assert answer["error_code"] == "PAYLOAD_TOO_LARGE" and "10,000 rows" in answer["message"]
    just_enough = csv_file(["name"], [[f"P{n}"] for n in range(MAX_ROWS)])
    status, answer, _ = await post_import(billing, setup.headers, "products", just_enough)
    assert status == 201 and answer["data"]["created"] == MAX_ROWS

    filler = "x" * 1000
    rows_over = MAX_IMPORT_BYTES // 1000 + 1
    too_big = csv_file(["name", "description"], [[f"Q{n}", filler] for n in range(rows_over)])
    assert len(too_big) > MAX_IMPORT_BYTES
    for extra in ({}, {"Idempotency-Key": "too-big"}):
        status, answer, _ = await post_import(billing, setup.headers, "products", too_big, extra)
        assert status == 413 and "5 MiB" in answer["message"], answer

    # A chunked upload (no Content-Length) is refused while it is received, all the same.
    async def chunks() -> Any:
        for start in range(0, len(too_big), 65536):
            yield too_big[start : start + 65536]

    response = await billing.post(
        f"{V1}/imports/products", data=chunks(), headers=setup.headers | CSV
    )
    assert response.status == 413
    # Over the 1 MiB of other bodies but within 5 MiB, with an Idempotency-Key: taken.
    big = csv_file(["name", "description"], [[f"R{n}", filler] for n in range(2000)])
    assert 1024 * 1024 < len(big) < MAX_IMPORT_BYTES
    status, answer, _ = await post_import(
        billing, setup.headers, "products", big, {"Idempotency-Key": "big-one"}
    )
    assert status == 201 and answer["data"]["created"] == 2000, answer
    # Other routes keep their 1 MiB.
    response = await billing.post(
        f"{V1}/products", data=b"{" + b" " * (1024 * 1024) + b"}", headers=setup.headers
    )
    assert response.status == 413


async def test_idempotency_key_replays_the_import(billing: Any, make_setup: Any) -> None:
    setup = await make_setup()
    body = csv_file(["company_name"], [["Replay Ltd"], ["Again Ltd"]])
    key = {"Idempotency-Key": "import-1"}
    before = await count(billing, "recipients", setup.company_id)
    status, first, _ = await post_import(billing, setup.headers, "customers", body, key)
    assert status == 201, first
    status, again, headers = await post_import(billing, setup.headers, "customers", body, key)
    assert status == 201 and again == first
    assert headers["Idempotent-Replayed"] == "true"
    assert await count(billing, "recipients", setup.company_id) == before + 2
    other = csv_file(["company_name"], [["Other Ltd"]])
    status, answer, _ = await post_import(billing, setup.headers, "customers", other, key)
    assert status == 422 and "Idempotency-Key" in answer["errors"]


async def test_imports_need_the_create_ability_and_a_managers_role(
    billing: Any, api: Any, auth: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    other = await make_setup()
    customers = csv_file(["company_name"], [["Someone"]])
    products = csv_file(["name"], [["Something"]])
    member = await join(api, setup, auth, "member")
    for kind, body in (("customers", customers), ("products", products)):
        status, answer, _ = await post_import(billing, member, kind, body)
        assert status == 403 and "role (member)" in answer["message"], answer
        status, answer, _ = await post_import(
            billing, setup.headers, kind, body, company_id=other.company_id
        )
        assert status == 403 and answer["error_code"] == "COMPANY_ACCESS_DENIED"
    reader = await join(api, setup, auth, "admin", ["recipients:read", "products:create"])
    status, answer, _ = await post_import(billing, reader, "customers", customers)
    assert status == 403 and "recipients:create" in answer["message"]
    status, answer, _ = await post_import(billing, reader, "products", products)
    assert status == 201, answer
    assert await count(billing, "recipients", other.company_id) == 1  # its own customer only


async def test_export_then_import_gives_equal_records(
    billing: Any, api: Any, make_setup: Any, auth: Any
) -> None:
    source = await make_setup()
    status, answer = await api(
        "POST",
        f"{V1}/customers",
        source.headers,
        {
            "company_id": source.company_id,
            "company_name": "=Formula & Sons",
            "contact_name": '-Dash, "Quoted"',
            "email": "buyer@formula.example",
            "phone": "+44 20 1234",
            "description": "Line one\nLine two",
            "company_address": "@Home\n1 Street",
            "address_line1": "1 Street",
            "city": "London",
            "postcode": "N1 1AA",
            "country_code": "GB",
            "vat_id": "GB123456789",
            "peppol_id": "0088:1234567890123",
            "buyer_reference": "LEIT-1",
            "currency": "GBP",
            "tax_rate": "20",
            "default_hour_rate": "99.125",
            "company_tax_number": "T-1",
            "company_registration_number": "R-1",
        },
    )
    assert status == 201, answer
    for product in (
        {"name": "+Plus", "type": "product", "price": "0.5", "sku": "P-1", "stock_quantity": "2.25",
         "unit": "piece", "tax_rate": "7", "description": "Small"},
        {"name": "Hours", "price": "100", "unit": "hour", "active": False},
    ):  # fmt: skip
        status, answer = await api(
            "POST", f"{V1}/products", source.headers, product | {"company_id": source.company_id}
        )
        assert status == 201, answer

    target = await make_setup(email=None)
    for kind in ("customers", "products"):
        rows = await exported(billing, source.headers, kind, source.company_id)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS[kind], lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        status, answer, _ = await post_import(
            billing, target.headers, kind, buffer.getvalue().encode(), company_id=target.company_id
        )
        assert status == 201, answer
        assert answer["data"]["ignored_columns"] == []
        again = await exported(billing, target.headers, kind, target.company_id)
        if kind == "customers":  # the target's own customer (setup) is exported too
            again = [row for row in again if row["company_name"] != "Client Corp"]
            rows = [row for row in rows if row["company_name"] != "Client Corp"]
        assert len(again) == len(rows)
        for before, after in zip(rows, again, strict=True):
            assert {k: v for k, v in before.items() if k not in ("id", "created_at")} == {
                k: v for k, v in after.items() if k not in ("id", "created_at")
            }
    # The values themselves came back, not their neutralised spelling.
    customers = await exported(billing, target.headers, "customers", target.company_id)
    imported = next(row for row in customers if row["email"] == "buyer@formula.example")
    status, shown = await api("GET", f"{V1}/customers/{imported['id']}", target.headers)
    assert shown["data"]["company_name"] == "=Formula & Sons"
    assert shown["data"]["default_hour_rate"] == "99.125"
    assert auth


async def test_two_concurrent_imports_of_one_email_add_it_once(
    billing: Any, make_setup: Any
) -> None:
    """The duplicate check and the insert run under one lock per company and kind: of two
    imports racing with the same e-mail, one creates it and the other is refused."""
    import asyncio

    setup = await make_setup()
    first = csv_file(["company_name", "email"], [["Racer A", "race@example.com"]])
    second = csv_file(["company_name", "email"], [["Racer B", "RACE@example.com"]])
    results = await asyncio.gather(
        post_import(billing, setup.headers, "customers", first),
        post_import(billing, setup.headers, "customers", second),
    )
    assert sorted(status for status, _, _ in results) == [201, 422]
    [refused] = [answer for status, answer, _ in results if status == 422]
    assert list(refused["errors"]) == ["rows.2.email"]
    taken = await billing.app[POOL].fetchval(
        "SELECT count(*) FROM recipients WHERE company_id = $1 AND lower(email) = $2",
        setup.company_id,
        "race@example.com",
    )
    assert taken == 1
