"""Absolute links come from PUBLIC_BASE_URL, whatever Host a request names; the public invoice
pages are locked down by their headers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from billing_service.app import create_app
from billing_service.platform.keys import SETTINGS

BASE = "https://billing.example.com/app"
FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "ftp"}


def invoice_body(setup: Any) -> dict[str, Any]:
    return {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "invoicer_payment_detail_id": setup.payment_detail_id,
        "items": [{"label": "Audit", "quantity": 1, "price": 500, "tax_percentage": 20}],
    }


@pytest.fixture
async def billing_at_base(aiohttp_client: Any, billing: TestClient) -> TestClient:
    settings = billing.app[SETTINGS].model_copy(update={"public_base_url": BASE})
    client: TestClient = await aiohttp_client(create_app(settings))
    return client


async def test_links_come_from_public_base_url_never_from_the_host(billing_at_base, auth, helpers):
    call = helpers.call
    setup = await helpers.setup(billing_at_base, await auth.bearer())
    headers = setup.headers | FORGED
    status, created = await call(
        billing_at_base, "POST", "/api/v1/invoices", headers, invoice_body(setup)
    )
    assert status == 201
    invoice_id = created["data"]["id"]
    assert created["data"]["public_url"].startswith(f"{BASE}/i/")
    await call(billing_at_base, "POST", f"/api/v1/invoices/{invoice_id}/approve", headers, {})
    _, download = await call(
        billing_at_base, "GET", f"/api/v1/invoices/{invoice_id}/download", headers
    )
    assert download["data"]["download_url"].startswith(f"{BASE}/files/")
    _, regenerated = await call(
        billing_at_base, "POST", f"/api/v1/invoices/{invoice_id}/regenerate-pdf", headers
    )
    assert regenerated["data"]["pdf_url"].startswith(f"{BASE}/files/")
    _, listed = await call(billing_at_base, "GET", "/api/v1/invoices?per_page=1", headers)
    assert listed["links"]["first"] == f"{BASE}/api/v1/invoices?per_page=1&page=1"
    assert listed["meta"]["path"] == f"{BASE}/api/v1/invoices"
    public_path = created["data"]["public_url"].removeprefix(BASE)
    page = await billing_at_base.get(public_path, headers=FORGED)
    assert f'href="{BASE}/files/' in await page.text()
    assert "evil.example" not in str(created) + str(download) + str(listed)


def _assert_locked_down(page: Any, html: str) -> None:
    policy = page.headers["Content-Security-Policy"]
    nonce = re.search(r"style-src 'nonce-([\w-]+)'", policy)
    assert nonce is not None and f'<style nonce="{nonce.group(1)}">' in html
    assert policy.startswith("default-src 'none';") and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "script-src" not in policy
    assert ' style="' not in html  # inline style attributes would need 'unsafe-inline'
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Server" not in page.headers


async def test_public_pages_send_security_headers(api, make_setup, billing):
    setup = await make_setup()
    _, created = await api("POST", "/api/v1/invoices", setup.headers, invoice_body(setup))
    await api("POST", f"/api/v1/invoices/{created['data']['id']}/approve", setup.headers, {})
    public_url = created["data"]["public_url"]
    page = await billing.get(public_url[public_url.index("/i/") :])
    assert page.status == 200
    _assert_locked_down(page, await page.text())
    missing = await billing.get("/i/no-such-invoice-here-at-all")
    assert missing.status == 404
    _assert_locked_down(missing, await missing.text())
