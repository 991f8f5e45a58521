from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from billing_service.app import create_app
from billing_service.platform.settings import Settings

from .helpers.invoices import draft


@pytest.fixture(scope="session")
async def pdf_server(pdf_settings: Any) -> Any:
    """The real pdf-service, for billing's document features."""
    from aiohttp.test_utils import TestServer

    from pdf_service.app import create_app as create_pdf

    server = TestServer(create_pdf(pdf_settings()))
    await server.start_server()
    yield server
    await server.close()


def billing_settings(
    database_urls: dict[str, str], jwks_url: str, auth: Any, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_urls["billing"],
        "auth_jwks_url": jwks_url,
        "auth_url": auth.url,
        "internal_secret": "test-internal-secret-0123456789",
        "scheduler_enabled": False,  # scheduler tests drive it themselves with a fixed clock
        "mailer_enabled": False,  # mailer tests drive it themselves
        "webhooks_enabled": False,  # webhook delivery tests drive it themselves
        "log_json": False,
        "log_level": "WARNING",
    }
    return Settings(**(values | overrides))


@pytest.fixture
def start_billing(
    aiohttp_client: Any, database_urls: dict[str, str], jwks_url: str, auth: Any, pdf_server: Any
) -> Any:
    """Starts a billing-service with the test settings and `overrides` (its loops, say)."""

    async def start(**overrides: Any) -> TestClient:
        pdf_url = str(pdf_server.make_url("")).rstrip("/")
        settings = billing_settings(database_urls, jwks_url, auth, pdf_url=pdf_url, **overrides)
        client: TestClient = await aiohttp_client(create_app(settings))
        return client

    return start


@pytest.fixture
async def billing(start_billing: Any) -> TestClient:
    client: TestClient = await start_billing()
    return client


@pytest.fixture
async def billing_without_pdf(
    aiohttp_client: Any, database_urls: dict[str, str], jwks_url: str, auth: Any
) -> TestClient:
    """billing-service whose pdf-service is down."""
    settings = billing_settings(database_urls, jwks_url, auth, pdf_url="http://127.0.0.1:1")
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


async def create_invoice(client: Any, setup: Setup, **fields: Any) -> int:
    """A new invoice of the setup's company (one line of 10), with `fields`; its id."""
    body = draft(setup, **fields)
    status, created = await call(client, "POST", "/api/v1/invoices", setup.headers, body)
    assert status == 201, created
    return int(created["data"]["id"])


PORTAL_ABILITIES = ["invoices:read", "invoices:download", "quotes:read", "profile:read"]


async def client_token(
    auth: Any, email: str, password: str, abilities: list[str] | None = None
) -> dict[str, str]:
    """A client-portal user's token made as INNOVATECH's clients make it (POST /tokens), as
    the gateway passes it on."""
    import aiohttp

    body = {"email": email, "password": password, "device_name": "portal"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{auth.url}/api/v1/tokens", json=body | {"abilities": abilities or PORTAL_ABILITIES}
        ) as response,
    ):
        assert response.status == 201, await response.text()
        token = (await response.json())["token"]
    return {"Authorization": f"Bearer {await auth.identity_jwt(token)}"}


@pytest.fixture
def helpers() -> Any:
    """call(), setup_billing(), create_invoice() and client_token() for tests that drive a
    billing client."""
    from types import SimpleNamespace

    return SimpleNamespace(
        call=call, setup=setup_billing, invoice=create_invoice, client_token=client_token
    )


@pytest.fixture
async def owner(auth: Any, billing: Any, helpers: Any) -> Any:
    """A company set up by its owner; `.user` is the owner's account."""
    user = await auth.user()
    setup = await helpers.setup(
        billing, {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    )
    setup.user = user
    return setup
