"""Documents end to end through the gateway: signed PDF downloads, the public page."""

from __future__ import annotations

import hashlib
import hmac
import io
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.stack
DEV_SIGNING_SECRET = b"dev-only-url-signing-secret"  # the compose default (development only)


async def get(http, url):
    async with http.get(url) as response:
        return response.status, response.headers, await response.read()


@pytest.fixture
async def issued(stack, http, new_client, send):
    client = await new_client()
    token = client.token
    await send("POST", "/api/v1/companies", token, {"name": "Docs Ltd"})
    _, invoicer = await send(
        "POST",
        "/api/v1/invoicers",
        token,
        {
            "company_entity": "Docs Ltd",
            "currency": "EUR",
            "tax_rate": 19,
            "company_address": "Hauptstraße 1, 10115 Berlin",
        },
    )
    _, customer = await send(
        "POST",
        "/api/v1/customers",
        token,
        {"company_name": "Ödön & Søn A/S", "email": "ap@odon.example"},
    )
    items = [
        {"description": f"Line {n}: design work", "quantity": n, "unit_price": 100 + n}
        for n in range(1, 4)
    ]
    _, invoice = await send(
        "POST",
        "/api/v1/invoices",
        token,
        {
            "invoicer_id": invoicer["data"]["id"],
            "customer_id": customer["data"]["id"],
            "items": items,
        },
    )
    status, approved = await send(
        "POST", f"/api/v1/invoices/{invoice['data']['id']}/approve", token, {}
    )
    assert status == 200
    return token, approved["data"]


async def test_signed_download_works_without_a_token(stack, http, issued, send):
    token, invoice = issued
    status, answer = await send("GET", f"/api/v1/invoices/{invoice['id']}/download", token)
    assert status == 200
    url = answer["data"]["download_url"]
    assert url.startswith(stack.base_url + "/files/")
    status, headers, body = await get(http, url)  # no Authorization header at all
    assert status == 200
    assert headers["Content-Disposition"] == f'attachment; filename="{invoice["label"]}.pdf"'
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    for expected in (
        invoice["label"],
        "Ödön & Søn A/S",
        "Line 1: design work",
        "Line 2: design work",
        "Line 3: design work",
        "€730.66",
    ):
        assert expected in text, expected


async def test_tampered_and_expired_links_are_refused(stack, http, issued, send):
    token, invoice = issued
    _, answer = await send("GET", f"/api/v1/invoices/{invoice['id']}/download", token)
    parts = urlsplit(answer["data"]["download_url"])
    query = parse_qs(parts.query)
    expires, signature = int(query["expires"][0]), query["signature"][0]
    base = f"{stack.base_url}{parts.path}"
    assert (await get(http, f"{base}?expires={expires + 60}&signature={signature}"))[0] == 403
    flipped = signature[:-1] + ("1" if signature.endswith("0") else "0")  # always a change
    assert (await get(http, f"{base}?expires={expires}&signature={flipped}"))[0] == 403
    document_id = parts.path.rsplit("/", 1)[1]
    past = int(time.time()) - 5
    honest_but_expired = hmac.new(
        DEV_SIGNING_SECRET, f"{document_id}.{past}".encode(), hashlib.sha256
    ).hexdigest()
    assert (await get(http, f"{base}?expires={past}&signature={honest_but_expired}"))[0] == 403
    assert (
        await get(
            http, f"{stack.base_url}/files/not-a-document?expires={expires}&signature={signature}"
        )
    )[0] == 404


async def test_regenerate_is_limited_to_ten_a_minute(stack, http, issued, send):
    token, invoice = issued
    statuses = [
        (await send("POST", f"/api/v1/invoices/{invoice['id']}/regenerate-pdf", token))[0]
        for _ in range(11)
    ]
    assert statuses == [200] * 10 + [429]


async def test_public_page_shows_the_invoice(stack, http, issued, send):
    _, invoice = issued
    status, headers, body = await get(http, invoice["public_url"])
    html = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for expected in (
        invoice["label"],
        "Ödön &amp; Søn A/S",
        "Line 3: design work",
        "€730.66",
        "Download PDF",
    ):
        assert expected in html, expected
    status, _, body = await get(http, f"{stack.base_url}/i/no-such-invoice-here-at-all")
    assert status == 404 and b"Invoice not found" in body
