"""The invoice document through the gateway: the invoicer's logo, a PDF that follows the
invoice's payments (and the one first issued, kept), and the public page in a real browser at
a phone's width (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import async_playwright
from pypdf import PdfReader

from tests.test_docs_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.stack


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (20, 90, 200, 255)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
async def issued(new_client, send):
    """An approved invoice of a company with its seller details, default payment detail and a
    long customer name (the phone layout must wrap it, not scroll)."""
    token = (await new_client()).token
    await send("POST", "/api/v1/companies", token, {"name": "Acme GmbH"})
    _, invoicer = await send(
        "POST",
        "/api/v1/invoicers",
        token,
        {
            "company_entity": "Acme GmbH",
            "currency": "EUR",
            "tax_rate": 19,
            "company_address": "Hauptstraße 1\n10115 Berlin",
            "vat_id": "DE123456789",
            "email": "billing@acme.example",
            "default": True,
        },
    )
    invoicer_id = invoicer["data"]["id"]
    await send(
        "POST",
        f"/api/v1/invoicers/{invoicer_id}/payment-details",
        token,
        {"iban": "DE89370400440532013000", "swift": "COBADEFFXXX", "default": True},
    )
    _, customer = await send(
        "POST",
        "/api/v1/customers",
        token,
        {
            "company_name": "Internationale Handelsgesellschaft Süd mbH & Co. KG",
            "email": "ap@x.example",
        },
    )
    _, invoice = await send(
        "POST",
        "/api/v1/invoices",
        token,
        {
            "invoicer_id": invoicer_id,
            "customer_id": customer["data"]["id"],
            "invoicer_payment_detail_id": None,
            "subject": "Website relaunch",
            "purchase_order_reference": "PO-4711",
            "due_date": (date.today() + timedelta(days=30)).isoformat(),
            "items": [{"description": "Consulting", "quantity": 10, "unit_price": 100}],
        },
    )
    assert "data" in invoice, invoice
    assert invoice["data"]["invoicer_payment_detail_id"] is not None  # the default one
    status, approved = await send(
        "POST", f"/api/v1/invoices/{invoice['data']['id']}/approve", token, {}
    )
    assert status == 200
    return token, invoicer_id, approved["data"]


async def pdf_text(http, send, token, invoice_id, query=""):
    status, answer = await send("GET", f"/api/v1/invoices/{invoice_id}/download{query}", token)
    assert status == 200, answer
    async with http.get(answer["data"]["download_url"]) as response:
        assert response.status == 200
        reader = PdfReader(io.BytesIO(await response.read()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text, [image for page in reader.pages for image in page.images]


async def test_the_download_follows_the_payment_and_keeps_the_issued_pdf(http, send, issued):
    token, _, invoice = issued
    text, _ = await pdf_text(http, send, token, invoice["id"])
    for expected in (
        "Status Unpaid",
        "VAT ID DE123456789",
        "PO number PO-4711",
        "Subject: Website relaunch",
        "IBAN: DE89370400440532013000",
        "Standard rate 19% €1,000.00 €190.00",
        "Balance due €1,190.00",
    ):
        assert expected in text, expected
    status, _ = await send(
        "POST", f"/api/v1/invoices/{invoice['id']}/pay", token, {"amount": "1190.00"}
    )
    assert status == 200
    text, _ = await pdf_text(http, send, token, invoice["id"])
    assert "Status Paid" in text and "Amount paid €1,190.00" in text
    assert "Balance due €0.00" in text and "Approved" not in text
    issued_text, _ = await pdf_text(http, send, token, invoice["id"], "?version=issued")
    assert "Status Unpaid" in issued_text and "Balance due €1,190.00" in issued_text


async def test_the_logo_through_the_gateway(stack, http, send, issued):
    token, invoicer_id, invoice = issued
    url = f"{stack.base_url}/api/v1/invoicers/{invoicer_id}/logo"
    auth = {"Authorization": f"Bearer {token}"}
    _, images = await pdf_text(http, send, token, invoice["id"])
    assert images == []  # no logo, no box
    async with http.put(url, data=png((800, 300)), headers=auth) as response:
        answer = await response.json()
        assert response.status == 200, answer
    assert (answer["data"]["media_type"], answer["data"]["width"]) == ("image/png", 600)
    _, images = await pdf_text(http, send, token, invoice["id"])
    assert len(images) == 1
    async with http.put(url, data=b"GIF89a not really", headers=auth) as response:
        assert response.status == 422 and "logo" in (await response.json())["errors"]
    async with http.delete(url, headers=auth) as response:
        assert response.status == 204


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no browser: /usr/bin/chromium is missing")
async def test_the_public_page_fits_a_phone(http, issued, tmp_path: Path) -> None:
    _, _, invoice = issued
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.goto(invoice["public_url"], wait_until="load")
            text = await page.locator("main").inner_text()
            for expected in ("Unpaid", "VAT ID DE123456789", "PO-4711", "DE89370400440532013000"):
                assert expected in text, expected
            assert "Approved" not in text
            widths = await page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], widths  # no horizontal scroll
        finally:
            await browser.close()
