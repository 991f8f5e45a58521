from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from billing_service.app import create_app
from billing_service.settings import Settings


@pytest.fixture
async def billing(
    aiohttp_client: Any, database_urls: dict[str, str], jwks_url: str, auth: Any
) -> TestClient:
    settings = Settings(
        environment="test",
        database_url=database_urls["billing"],
        auth_jwks_url=jwks_url,
        auth_url=auth.url,
        internal_secret="test-internal-secret-0123456789",
        scheduler_enabled=False,  # scheduler tests drive it themselves with a fixed clock
        log_json=False,
        log_level="WARNING",
    )
    client: TestClient = await aiohttp_client(create_app(settings))
    return client


# --- a billing setup built through the API, as a client would -----------------------------


@dataclass
class Setup:
    headers: dict[str, str]
    company_id: int
    invoicer_id: int
    payment_detail_id: int
    organisation_id: int
    recipient_id: int


async def call(
    client: Any, method: str, path: str, headers: dict[str, str], body: Any = None, **kwargs: Any
) -> tuple[int, Any]:
    response = await client.request(method, path, json=body, headers=headers, **kwargs)
    text = await response.text()
    return response.status, (json.loads(text) if text else None)


async def setup_billing(
    client: Any,
    headers: dict[str, str],
    *,
    currency: str = "USD",
    email: str | None = "billing@client.example",
) -> Setup:
    status, company = await call(client, "POST", "/api/v1/companies", headers, {"name": "Acme Ltd"})
    assert status == 201, company
    company_id = company["data"]["id"]
    status, invoicer = await call(
        client,
        "POST",
        "/api/v1/invoicers",
        headers,
        {
            "company_id": company_id,
            "company_entity": "Acme Ltd",
            "currency": currency,
            "tax_rate": 20,
            "default": True,
        },
    )
    assert status == 201, invoicer
    invoicer_id = invoicer["data"]["id"]
    status, detail = await call(
        client,
        "POST",
        f"/api/v1/invoicers/{invoicer_id}/payment-details",
        headers,
        {"label": "Main", "bank_name": "First Bank", "iban": "GB00TEST", "default": True},
    )
    assert status == 201, detail
    status, organisation = await call(
        client,
        "POST",
        "/api/v1/organisations",
        headers,
        {"name": "Clients", "company_id": company_id},
    )
    assert status == 201, organisation
    organisation_id = organisation["data"]["id"]
    status, recipient = await call(
        client,
        "POST",
        "/api/v1/recipients",
        headers,
        {
            "company_entity": "Client Corp",
            "organisation_id": organisation_id,
            "currency": currency,
            "email": email,
        },
    )
    assert status == 201, recipient
    return Setup(
        headers,
        company_id,
        invoicer_id,
        detail["data"]["id"],
        organisation_id,
        recipient["data"]["id"],
    )


@pytest.fixture
def api(billing: TestClient) -> Any:
    async def request(
        method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> tuple[int, Any]:
        return await call(billing, method, path, headers, body)

    return request


@pytest.fixture
def make_setup(billing: TestClient, auth: Any) -> Any:
    async def make(**options: Any) -> Setup:
        return await setup_billing(billing, await auth.bearer(), **options)

    return make
