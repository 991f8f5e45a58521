"""Through the real compose stack: paths that would resolve differently behind the gateway are
refused, /metrics stays internal, answers name no server software, the public page is locked
down, and links start with PUBLIC_BASE_URL whatever Host a client sends."""

from __future__ import annotations

import re

import pytest
from yarl import URL

pytestmark = pytest.mark.stack

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "ftp"}


def public_base_url(stack) -> str:
    settings = dict(line.split("=", 1) for line in stack.env_file.read_text().splitlines())
    return settings["PUBLIC_BASE_URL"]


async def get_exactly(http, stack, path, headers=None):
    """The path byte for byte (aiohttp's client would resolve dot segments itself)."""
    url = URL(stack.base_url + path, encoded=True)
    async with http.get(url, headers=headers) as response:
        return response.status, response.headers, await response.text()


@pytest.mark.parametrize(
    "path", ["/files/%2e%2e/metrics", "/api/v1/x/%2e%2e/invoices/1/send", "/files/..%2fmetrics"]
)
async def test_dot_segments_are_refused(stack, http, new_client, path):
    client = await new_client()
    status, headers, body = await get_exactly(http, stack, path, client.headers)
    assert status == 400 and '"error_code":"BAD_REQUEST"' in body
    assert "http_requests_total" not in body


async def test_metrics_are_not_served_on_the_public_port(stack, http):
    status, _, body = await get_exactly(http, stack, "/metrics")
    assert status == 404 and "http_requests_total" not in body
    probe = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9090/metrics').read().decode())"
    inside = stack.compose_command("exec", "-T", "gateway", "python", "-c", probe).stdout
    assert "gateway_redis_round_trips_total" in inside  # still there, on the internal port


async def _request(http, stack, method, path, token, body=None):
    headers = FORGED | {"Authorization": f"Bearer {token}"}
    async with http.request(method, stack.base_url + path, json=body, headers=headers) as response:
        assert response.status in (200, 201), await response.text()
        return await response.json()


async def test_links_pages_and_headers_hold_against_a_forged_host(stack, http, new_client):
    token = (await new_client()).token
    base = public_base_url(stack)
    await _request(http, stack, "POST", "/api/v1/companies", token, {"name": "Front Ltd"})
    invoicer = await _request(
        http,
        stack,
        "POST",
        "/api/v1/invoicers",
        token,
        {"company_entity": "Front Ltd", "currency": "EUR", "tax_rate": 19},
    )
    customer = await _request(
        http, stack, "POST", "/api/v1/customers", token, {"company_name": "Customer AG"}
    )
    invoice = await _request(
        http,
        stack,
        "POST",
        "/api/v1/invoices",
        token,
        {
            "invoicer_id": invoicer["data"]["id"],
            "customer_id": customer["data"]["id"],
            "items": [{"description": "Audit", "quantity": 1, "unit_price": 500}],
        },
    )
    invoice_id = invoice["data"]["id"]
    approved = await _request(http, stack, "POST", f"/api/v1/invoices/{invoice_id}/approve", token)
    public_url = approved["data"]["public_url"]
    assert public_url.startswith(f"{base}/i/")
    download = await _request(http, stack, "GET", f"/api/v1/invoices/{invoice_id}/download", token)
    assert download["data"]["download_url"].startswith(f"{base}/files/")
    listed = await _request(http, stack, "GET", "/api/v1/invoices", token)
    assert listed["links"]["first"].startswith(f"{base}/api/v1/invoices?")

    async with http.get(public_url, headers=FORGED) as page:
        html = await page.text()
        assert page.status == 200 and f'href="{base}/files/' in html
        headers = page.headers
    policy = headers["Content-Security-Policy"]
    nonce = re.search(r"style-src 'nonce-([\w-]+)'", policy)
    assert nonce is not None and f'<style nonce="{nonce.group(1)}">' in html
    assert policy.startswith("default-src 'none';") and "unsafe-inline" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"

    answers = [headers]
    for path in (download["data"]["download_url"], f"{stack.base_url}/nowhere"):
        async with http.get(path) as response:
            answers.append(response.headers)
    async with http.get(
        f"{stack.base_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    ) as me:
        answers.append(me.headers)
    for answer in answers:
        assert "Server" not in answer
