"""The contract of billing's companies, teams, resources and documents operations, checked
against the real service: the generated document is valid OpenAPI 3.1, a real answer of every
operation conforms to the schema the document gives it, and the ability each operation
declares is the one enforced (derived from the table, so a new operation is covered too)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate
from PIL import Image

from billing_service.companies import routes as companies
from billing_service.documents import routes as documents
from billing_service.parties import routes as resources
from shared.abilities import ACTIONS, EXTRA_ABILITIES, RESOURCES
from shared.contract import OPERATIONS, Content, NoContent, Operation
from shared.openapi import build_document, openapi_path

OURS = [*companies.operations(), *resources.operations(), *documents.operations()]
Key = tuple[str, str]  # (method, path) of an operation
Answer = tuple[int, str, bytes]  # status, content type, body


def _key(operation: Operation) -> Key:
    return (operation.method, operation.path)


def _operation_of(method: str, path: str) -> Operation | None:
    for operation in OURS:
        pattern = "/".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in operation.path.split("/")
        )
        if operation.method == method and re.fullmatch(pattern, path.split("?")[0]):
            return operation
    return None


Call = Callable[..., Awaitable[Any]]


def _caller(client: TestClient, headers: dict[str, str], answers: dict[Key, list[Answer]]) -> Call:
    """Calls billing-service, keeping each answer of our operations by operation."""

    async def call(method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        # bytes are a file upload (a logo), anything else JSON
        sent = {"data": body} if isinstance(body, bytes) else {"json": body}
        response = await client.request(method, path, headers=headers, **sent)
        raw = await response.read()
        assert response.status == expect, (method, path, response.status, raw)
        operation = _operation_of(method, path)
        if operation is not None:
            answers.setdefault(_key(operation), []).append(
                (response.status, response.content_type, raw)
            )
        return json.loads(raw) if response.content_type == "application/json" else None

    return call


async def _companies_and_teams(call: Call, auth: Any) -> int:
    company = (await call("POST", "/api/v1/companies", {"name": "Contract Ltd"}, 201))["data"]
    one = f"/api/v1/companies/{company['id']}"
    await call("GET", "/api/v1/companies?per_page=5")
    await call("GET", one)
    await call("PUT", one, {"timezone": "Europe/Berlin"})
    await call("PATCH", one, {"currency": "EUR"})
    colleague = await auth.user()
    await call("POST", f"{one}/members", {"email": colleague.email}, 201)
    await call("GET", f"{one}/members")
    await call("PUT", f"{one}/members/{colleague.id}", {"role": "admin"})
    await call("PATCH", f"{one}/members/{colleague.id}", {"role": "member"})
    await call("DELETE", f"{one}/members/{colleague.id}", expect=204)
    await call("POST", "/api/v1/teams/switch", {"team_id": company["id"]})
    await call("GET", "/api/v1/teams")
    await call("GET", "/api/v1/teams/current")
    spare = (await call("POST", "/api/v1/companies", {"name": "Spare Ltd"}, 201))["data"]
    await call("DELETE", f"/api/v1/companies/{spare['id']}", expect=204)
    return int(company["id"])


async def _crud(call: Call, path: str, create: dict[str, Any], change: dict[str, Any]) -> int:
    """Every generic operation of a resource; the id of the record it leaves."""
    kept = (await call("POST", path, create, 201))["data"]["id"]
    spare = await call(
        "POST", path, create | {"slug": "spare"} if "slug" in create else create, 201
    )
    await call("GET", path)
    await call("GET", f"{path}/{kept}")
    await call("PUT", f"{path}/{kept}", change)
    await call("PATCH", f"{path}/{kept}", change)
    await call("DELETE", f"{path}/{spare['data']['id']}", expect=204)
    return int(kept)


async def _resources(call: Call, company_id: int) -> tuple[int, int, int]:
    v1 = "/api/v1"
    mine = {"company_id": company_id}
    organisation = await _crud(
        call, f"{v1}/organisations", mine | {"name": "Clients", "slug": "clients"}, {"name": "C"}
    )
    invoicer = await _crud(
        call,
        f"{v1}/invoicers",
        mine | {"company_entity": "Contract Ltd", "currency": "EUR", "tax_rate": 19.5},
        {"description": "Us", "default": True},
    )
    details = f"{v1}/invoicers/{invoicer}/payment-details"
    detail = await _crud(call, details, {"label": "Main", "iban": "DE00"}, {"default": True})
    logo = io.BytesIO()
    Image.new("RGB", (120, 40), "navy").save(logo, "PNG")
    await call("PUT", f"{v1}/invoicers/{invoicer}/logo", logo.getvalue())
    await call("DELETE", f"{v1}/invoicers/{invoicer}/logo", expect=204)
    recipient = await _crud(
        call,
        f"{v1}/recipients",
        {"organisation_id": organisation, "company_entity": "Client Corp", "email": "a@b.example"},
        {"default_hour_rate": "80.5", "currency": "EUR"},
    )
    contacts = f"{v1}/recipients/{recipient}/contacts"
    await call("POST", contacts, {"email": "portal@client.example", "name": "Portal"}, 201)
    await call("GET", contacts)
    for path in (f"{v1}/customers", f"{v1}/buyers"):
        customer = await _crud(call, path, mine | {"company_name": "Buyer"}, {"phone": "+1 555"})
        await call("GET", f"{path}?search=buy")
        assert customer > 0
    product = await _crud(
        call,
        f"{v1}/products",
        mine | {"type": "product", "name": "Widget", "price": "9.5", "stock_quantity": 3},
        {"sku": "W-1"},
    )
    await call("POST", f"{v1}/products/{product}/adjust-stock", {"adjustment": "-1.25"})
    await call("GET", f"{v1}/products/{product}")
    return invoicer, detail, recipient


async def _documents(call: Call, ids: tuple[int, int, int]) -> None:
    invoicer, detail, recipient = ids
    # What every e-invoice format needs besides what the invoice has.
    await call(
        "PATCH", f"/api/v1/invoicers/{invoicer}", {"country_code": "DE", "vat_id": "DE123456789"}
    )
    await call("PATCH", f"/api/v1/recipients/{recipient}", {"country_code": "FR"})
    body = {
        "invoicer_id": invoicer,
        "invoicer_payment_detail_id": detail,
        "invoice_recipient_id": recipient,
        "due_date": (date.today() + timedelta(days=30)).isoformat(),
        "items": [{"label": "Work", "quantity": 1, "price": 10}],
    }
    invoice = (await call("POST", "/api/v1/invoices", body, 201))["data"]
    await call("POST", f"/api/v1/invoices/{invoice['id']}/approve", {})
    await call("GET", f"/api/v1/invoices/{invoice['id']}/download")
    await call("GET", f"/api/v1/invoices/{invoice['id']}/einvoice?format=facturx")
    await call("POST", f"/api/v1/invoices/{invoice['id']}/regenerate-pdf", {})
    public_url = invoice["public_url"]
    await call("GET", public_url[public_url.index("/i/") :])


def _response_schema(document: dict[str, Any], operation: Operation, status: int) -> Any:
    described = document["paths"][openapi_path(operation.path)][operation.method.lower()]
    return described["responses"][str(status)]


async def test_every_answer_conforms_to_the_generated_document(billing: Any, auth: Any) -> None:
    answers: dict[Key, list[Answer]] = {}
    call = _caller(billing, await auth.bearer(), answers)
    company_id = await _companies_and_teams(call, auth)
    await _documents(call, await _resources(call, company_id))

    document = build_document(billing.app[OPERATIONS], title="billing-service")
    validate(document)
    assert not [_key(o) for o in OURS if _key(o) not in answers], "operations never exercised"
    checked = 0
    for operation in OURS:
        for status, content_type, body in answers[_key(operation)]:
            assert status == operation.status, (operation.operation_id, status)
            described = _response_schema(document, operation, status)
            if isinstance(operation.answer, NoContent):
                assert body == b"" and "content" not in described
                continue
            if isinstance(operation.answer, Content):
                assert content_type in (operation.answer.media_type, *operation.answer.also)
                continue
            schema = described["content"]["application/json"]["schema"]
            validator = Draft202012Validator(
                schema | {"components": document["components"]}, format_checker=FormatChecker()
            )
            errors = [e.message for e in validator.iter_errors(json.loads(body))]
            assert not errors, (operation.operation_id, errors)
            checked += 1
    assert checked >= 60


def test_the_document_declares_what_the_issue_lists() -> None:
    document = build_document(OURS, title="billing-service")
    validate(document)
    paths = document["paths"]
    details = paths["/api/v1/invoicers/{id}/payment-details"]
    assert details["post"]["x-abilities"] == ["invoicers:update"]
    assert paths["/api/v1/invoicers/{id}/payment-details/{detail_id}"]["delete"]["x-abilities"] == [
        "invoicers:update"
    ]
    assert paths["/api/v1/buyers/{id}"]["get"]["operationId"] == "get_customer_as_buyers"
    assert paths["/i/{public_id}"]["get"]["security"] == []
    schemas = document["components"]["schemas"]
    assert schemas["CustomerView"]["properties"]["company_name"]["type"] == "string"
    assert schemas["ProductView"]["properties"]["price"]["type"] == "string"
    summaries = [o.summary for o in OURS]
    assert not [s for s in summaries if re.search(r"\ba [aeiou]|ys\b", s)], summaries


# Every concrete ability a token can hold (no wildcards).
ALL_ABILITIES = frozenset(
    {f"{resource}:{action}" for resource in RESOURCES for action in ACTIONS} | set(EXTRA_ABILITIES)
)


async def test_every_operation_enforces_the_ability_it_declares(billing: Any, auth: Any) -> None:
    from auth_service.keys import TOKENS

    user = await auth.user()
    tokens: dict[frozenset[str], dict[str, str]] = {}
    checked = 0
    for operation in OURS:
        if operation.access.public:
            continue
        declared = frozenset(operation.access.abilities())
        assert declared <= ALL_ABILITIES, operation.operation_id
        if declared not in tokens:
            issued = await auth.app[TOKENS].issue(
                user_id=user.id,
                name="lacking",
                abilities=sorted(ALL_ABILITIES - declared),
                expires_at=None,
            )
            jwt = await auth.identity_jwt(issued.plain_text)
            tokens[declared] = {"Authorization": f"Bearer {jwt}"}
        path = re.sub(r"\{\w+\}", "1", operation.path)
        response = await billing.request(operation.method, path, json={}, headers=tokens[declared])
        assert response.status == 403, (operation.operation_id, response.status)
        message = (await response.json())["message"]
        assert any(ability in message for ability in declared), (operation.operation_id, message)
        checked += 1
    assert checked == len([o for o in OURS if not o.access.public])
