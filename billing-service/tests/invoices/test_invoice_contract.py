"""The invoices table's contract: the generated billing document is valid OpenAPI 3.1, every
route of the table is an operation of it, and real answers of every operation (member and
client-portal views, the estimate spellings, lists, errors) conform to the status and schema
the document declares for them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from billing_service.invoices import routes as invoices
from billing_service.receivables import routes as receivables
from billing_service.scheduling import routes as scheduling
from shared.contract import OPERATIONS
from shared.openapi import DOCUMENT_PATH

# The /invoices table: the invoices domain's operations and create-next (scheduling's).
# Receivables' actions on an invoice (credit notes, refunds, apply-credit) are under the table too.
INVOICE_OPERATIONS = [
    *invoices.operations(),
    *scheduling.operations(),
    *(op for op in receivables.operations() if op.path.startswith("/api/v1/invoices/")),
]

V1 = "/api/v1"
TABLE = (f"{V1}/invoices", f"{V1}/quotes", f"{V1}/estimates")
# /invoices/{id}/download, /regenerate-pdf and /einvoice are the documents' routes (another slice).
DOCUMENTS = ("/download", "/regenerate-pdf", "/einvoice")
LINE = {"label": "Work", "quantity": 2, "price": "150.125", "tax_percentage": 20}


class Contract:
    """Calls billing and checks each answer against the served document: the status is one
    the operation declares, and the JSON validates against that status's schema."""

    def __init__(self, client: Any, document: dict[str, Any]) -> None:
        self.client = client
        self.document = document
        self.answered: set[tuple[str, int]] = set()  # (operationId, status)
        self._paths = [
            (re.compile(re.sub(r"\{\w+\}", "[^/]+", template) + "$"), template)
            for template in document["paths"]
        ]

    def _operation(self, method: str, path: str) -> dict[str, Any]:
        for pattern, template in self._paths:
            operations = self.document["paths"][template]
            if pattern.match(path) and method.lower() in operations:
                return dict(operations[method.lower()])
        raise AssertionError(f"{method} {path} is no operation of the document")

    async def __call__(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any = None,
        *,
        expect: int,
        request_headers: dict[str, str] | None = None,
    ) -> Any:
        response = await self.client.request(
            method, path, json=body, headers=headers | (request_headers or {})
        )
        assert response.status == expect, await response.text()
        operation = self._operation(method, path.partition("?")[0])
        answer = operation["responses"].get(str(response.status))
        assert answer is not None, f"{operation['operationId']}: {response.status} undocumented"
        self.answered.add((operation["operationId"], response.status))
        for header in answer.get("headers", {}):
            assert header in response.headers, (operation["operationId"], header)
        if "content" not in answer:
            assert await response.read() == b""
            return None
        payload = await response.json()
        schema = answer["content"]["application/json"]["schema"]
        # The document's own components resolve the schema's $refs (#/components/...).
        validator = Draft202012Validator(schema | {"components": self.document["components"]})
        errors = sorted(validator.iter_errors(payload), key=lambda error: list(error.path))
        assert not errors, (operation["operationId"], [error.message for error in errors[:5]])
        return payload


@pytest.fixture
async def contract(billing: Any, auth: Any) -> Contract:
    # Any valid identity reads it (the identity middleware guards every non-ops path).
    response = await billing.get(DOCUMENT_PATH, headers=await auth.bearer([]))
    assert response.status == 200
    return Contract(billing, await response.json())


def _table_routes(app: Any) -> Iterator[tuple[str, str]]:
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method != "HEAD" and path.startswith(TABLE) and not path.endswith(DOCUMENTS):
            yield route.method, path


async def test_the_served_document_is_valid_openapi(contract: Contract) -> None:
    validate(contract.document)
    ids = [
        operation["operationId"]
        for path in contract.document["paths"].values()
        for operation in path.values()
    ]
    assert len(ids) == len(set(ids))
    convert = contract.document["paths"][f"{V1}/estimates/{{id}}/convert-to-invoice"]["post"]
    assert convert["x-abilities"] == ["quotes:update", "invoices:create"]
    update = contract.document["paths"][f"{V1}/invoices/{{id}}"]["put"]
    assert "`invoices:update` or, on a quote, `quotes:update`" in update["description"]
    listing = contract.document["paths"][f"{V1}/invoices"]["get"]
    assert "Client-portal users read their own invoices" in listing["description"]
    assert {"page", "per_page", "cursor", "status", "from", "customer_id"} <= {
        parameter["name"] for parameter in listing["parameters"]
    }


async def test_every_route_of_the_table_is_an_operation(billing: Any) -> None:
    declared = {(operation.method, operation.path) for operation in billing.app[OPERATIONS]}
    routes = set(_table_routes(billing.app))
    assert routes == {(operation.method, operation.path) for operation in INVOICE_OPERATIONS}
    assert routes <= declared
    assert len(routes) == 36


async def test_member_answers_conform(contract: Contract, make_setup: Any) -> None:
    setup = await make_setup()
    h, check = setup.headers, contract
    invoice = {"invoice_recipient_id": setup.recipient_id, "items": [LINE]}
    created = await check("POST", f"{V1}/invoices", h, invoice, expect=201)
    one = f"{V1}/invoices/{created['data']['id']}"
    me = created["data"]["history"][0]["user_id"]
    await check("GET", f"{V1}/invoices", h, expect=200)
    await check("GET", f"{V1}/invoices?sort=total&per_page=1", h, expect=200)
    await check("GET", one, h, expect=200)
    await check("PUT", one, h, {"subject": "May"}, expect=200)
    await check("PATCH", one, h, {"notes": None}, expect=200)
    members = [{"member_id": me, "receive_invoice": True}]
    await check("POST", f"{one}/members", h, {"members": members}, expect=200)
    await check("GET", f"{one}/members", h, expect=200)
    await check("POST", f"{one}/approve", h, expect=200)
    await check("POST", f"{one}/send", h, {"template": "invoice-issued"}, expect=200)
    await check("POST", f"{one}/send-payment-link", h, expect=409)
    due = (date.today() + timedelta(days=30)).isoformat()
    await check("POST", f"{one}/set-due-date", h, {"due_date": due}, expect=200)
    await check("POST", f"{one}/set-period", h, {"period": "May"}, expect=200)
    await check("POST", f"{one}/pay", h, {"amount": "10.00"}, expect=200)
    await check("POST", f"{one}/convert", h, {"type": "quote"}, expect=201)

    draft = await check("POST", f"{V1}/invoices", h, invoice, expect=201)
    other = f"{V1}/invoices/{draft['data']['id']}"
    await check(
        "POST", f"{other}/set-schedule-date", h, {"scheduled_date": "2999-01-01"}, expect=200
    )
    await check("POST", f"{other}/cancel", h, expect=200)
    await check("DELETE", other, h, expect=204)

    emailed = await check("POST", f"{V1}/invoices", h, invoice, expect=201)
    await check("POST", f"{V1}/invoices/{emailed['data']['id']}/send-email", h, {}, expect=200)

    template = invoice | {"type": "recurring", "recurring": "monthly"}
    recurring = await check("POST", f"{V1}/invoices", h, template, expect=201)
    await check("POST", f"{V1}/invoices/{recurring['data']['id']}/create-next", h, expect=201)


async def test_quote_and_estimate_answers_conform(contract: Contract, make_setup: Any) -> None:
    setup = await make_setup(currency="JPY")
    h, check = setup.headers, contract
    body = {"customer_id": setup.recipient_id, "items": [LINE], "valid_until": "2999-01-01"}
    for family in ("quotes", "estimates"):
        created = await check("POST", f"{V1}/{family}", h, body, expect=201)
        one = f"{V1}/{family}/{created['data']['id']}"
        await check("GET", f"{V1}/{family}", h, expect=200)
        await check("GET", one, h, expect=200)
        await check("PUT", one, h, {"subject": "Offer"}, expect=200)
        await check("PATCH", one, h, {"notes": "Thanks"}, expect=200)
        await check("DELETE", one, h, expect=204)
    estimate = await check("POST", f"{V1}/estimates", h, body, expect=201)
    declined = f"{V1}/invoices/{estimate['data']['id']}/decline"
    await check("POST", declined, h, expect=200)
    shown = await check("GET", f"{V1}/estimates/{estimate['data']['id']}", h, expect=200)
    assert shown["data"]["status"] == shown["data"]["stage"] == "rejected"
    assert shown["data"]["tax2"] == "0"  # yen: no minor units

    accepted = await check("POST", f"{V1}/estimates", h, body, expect=201)
    converted = await check(
        "POST",
        f"{V1}/estimates/{accepted['data']['id']}/convert-to-invoice",
        h,
        expect=201,
    )
    assert converted["data"]["invoice_number"].startswith("INV-")


async def test_client_portal_answers_conform(
    contract: Contract, make_setup: Any, api: Any, auth: Any, helpers: Any
) -> None:
    setup = await make_setup(currency="ZAR")
    h, check = setup.headers, contract
    status, contact = await api(
        "POST",
        f"{V1}/recipients/{setup.recipient_id}/contacts",
        h,
        {"email": f"portal-{setup.company_id}@contract.example", "name": "Portal User"},
    )
    assert status == 201, contact
    invoice = await check(
        "POST",
        f"{V1}/invoices",
        h,
        {"customer_id": setup.recipient_id, "items": [LINE]},
        expect=201,
    )
    invoice_id = invoice["data"]["id"]
    await check("POST", f"{V1}/invoices/{invoice_id}/approve", h, expect=200)
    await check("POST", f"{V1}/invoices/{invoice_id}/pay", h, {"amount": "5"}, expect=200)
    quote = await check(
        "POST", f"{V1}/quotes", h, {"customer_id": setup.recipient_id, "items": [LINE]}, expect=201
    )
    await check("POST", f"{V1}/invoices/{quote['data']['id']}/approve", h, expect=200)

    client = await helpers.client_token(auth, contact["data"]["email"], contact["data"]["password"])
    listed = await check("GET", f"{V1}/invoices?status=Unpaid", client, expect=200)
    assert [row["status"] for row in listed["data"]] == ["Unpaid"]
    shown = await check("GET", f"{V1}/invoices/{invoice_id}", client, expect=200)
    assert "company_id" not in shown["data"] and shown["data"]["paymentmethod"] == ""
    await check("GET", f"{V1}/quotes", client, expect=200)
    await check("GET", f"{V1}/quotes/{quote['data']['id']}", client, expect=200)
    await check("POST", f"{V1}/invoices/{invoice_id}/cancel", client, expect=403)


async def test_error_answers_conform(contract: Contract, make_setup: Any, auth: Any) -> None:
    setup = await make_setup()
    h, check = setup.headers, contract
    invoice = {"invoice_recipient_id": setup.recipient_id, "items": [LINE]}
    created = await check("POST", f"{V1}/invoices", h, invoice, expect=201)
    one = f"{V1}/invoices/{created['data']['id']}"
    await check("GET", f"{V1}/invoices/999999999", h, expect=404)
    await check("POST", f"{V1}/invoices", h, {"items": [{"label": ""}]}, expect=422)
    await check("GET", f"{V1}/invoices?cursor=nonsense", h, expect=400)
    await check("PUT", one, h, {"subject": "x"}, expect=412, request_headers={"If-Match": '"0.0"'})
    await check("POST", f"{one}/pay", h, {"amount": "1"}, expect=409)  # a draft awaits no money
    reader = await auth.bearer(["invoices:read"])
    await check("POST", f"{V1}/quotes", reader, {}, expect=403)
    await check("DELETE", one, reader, expect=403)
    converter = await auth.bearer(["quotes:update"])
    await check("POST", f"{V1}/estimates/1/convert-to-invoice", converter, expect=403)
