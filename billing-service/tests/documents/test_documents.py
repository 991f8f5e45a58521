"""Documents from billing's side: PDF on approval, downloads, regeneration, the public page,
and pdf-service being down."""

from __future__ import annotations

import io

import aiohttp
from pypdf import PdfReader

from billing_service.platform.keys import POOL


def body_for(setup, **overrides):
    return {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "invoicer_payment_detail_id": setup.payment_detail_id,
        "scheduled_date": "2025-06-01",
        "due_date": "2025-06-30",
        "notes": "Thank you!",
        "items": [
            {
                "label": "Web Development",
                "unit": "hour",
                "quantity": 40,
                "price": 150,
                "tax_percentage": 20,
            },
            {
                "label": "Hosting (€ pricing, ő ł)",
                "quantity": 1,
                "price": 99.5,
                "tax_percentage": 20,
            },
        ],
    } | overrides


async def fetch_pdf(pdf_server, url):
    """The gateway serves /files/ publicly; here we go to pdf-service straight."""
    path = url[url.index("/files/") :]
    async with (
        aiohttp.ClientSession() as http,
        http.get(str(pdf_server.make_url(path))) as response,
    ):
        return response.status, await response.read()


async def test_approval_renders_the_pdf_and_download_serves_it(
    api, make_setup, billing, pdf_server
):
    setup = await make_setup()
    _, created = await api("POST", "/api/v1/invoices", setup.headers, body_for(setup))
    invoice_id = created["data"]["id"]
    status, _ = await api("POST", f"/api/v1/invoices/{invoice_id}/approve", setup.headers, {})
    assert status == 200
    document_id = await billing.app[POOL].fetchval(
        "SELECT document_id FROM invoices WHERE id = $1", invoice_id
    )
    assert document_id is not None
    status, answer = await api("GET", f"/api/v1/invoices/{invoice_id}/download", setup.headers)
    assert status == 200
    data = answer["data"]
    assert data["invoice_id"] == invoice_id and "/files/" in data["download_url"]
    assert answer["download_url"] == data["download_url"]  # InvoiceMee reads it at the top
    status, body = await fetch_pdf(pdf_server, data["download_url"])
    assert status == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    for expected in (
        "INV-0001",
        "Client Corp",
        "Web Development",
        "Hosting (€ pricing, ő ł)",
        "$7,319.40",
        "IBAN: GB00TEST",
        "Thank you!",
    ):
        assert expected in text, expected


async def test_regenerate_renders_the_current_state(api, make_setup, billing, pdf_server):
    setup = await make_setup()
    _, created = await api("POST", "/api/v1/invoices", setup.headers, body_for(setup))
    invoice_id = created["data"]["id"]
    await api("POST", f"/api/v1/invoices/{invoice_id}/approve", setup.headers, {})
    first = await billing.app[POOL].fetchval(
        "SELECT document_id FROM invoices WHERE id = $1", invoice_id
    )
    await api("POST", f"/api/v1/invoices/{invoice_id}/pay", setup.headers, {"amount": 1000})
    status, answer = await api(
        "POST", f"/api/v1/invoices/{invoice_id}/regenerate-pdf", setup.headers
    )
    assert status == 200 and answer["data"]["id"] == invoice_id
    second = await billing.app[POOL].fetchval(
        "SELECT document_id FROM invoices WHERE id = $1", invoice_id
    )
    assert second != first
    status, body = await fetch_pdf(pdf_server, answer["data"]["pdf_url"])
    assert "$1,000.00" in PdfReader(io.BytesIO(body)).pages[0].extract_text()  # the payment shows


async def test_download_needs_its_ability_and_scope(api, make_setup, auth):
    setup, other = await make_setup(), await make_setup()
    _, created = await api("POST", "/api/v1/invoices", setup.headers, body_for(setup))
    invoice_id = created["data"]["id"]
    reader = await auth.bearer(["invoices:read"])
    status, body = await api("GET", f"/api/v1/invoices/{invoice_id}/download", reader)
    assert status == 403
    assert (await api("GET", f"/api/v1/invoices/{invoice_id}/download", other.headers))[0] == 404
    assert (await api("POST", f"/api/v1/invoices/{invoice_id}/regenerate-pdf", other.headers))[
        0
    ] == 404


async def test_public_page_shows_the_issued_invoice(api, make_setup, billing):
    setup = await make_setup()
    _, created = await api("POST", "/api/v1/invoices", setup.headers, body_for(setup))
    public_url = created["data"]["public_url"]
    path = public_url[public_url.index("/i/") :]
    draft_page = await billing.get(path)
    assert draft_page.status == 404  # drafts are not published
    await api("POST", f"/api/v1/invoices/{created['data']['id']}/approve", setup.headers, {})
    page = await billing.get(path)
    html = await page.text()
    assert page.status == 200 and page.content_type == "text/html"
    for expected in (
        "INV-0001",
        "Client Corp",
        "Web Development",
        "$7,319.40",
        "Download PDF",
        "/files/",
    ):
        assert expected in html, expected
    assert "&lt;" not in html or "<script" not in html
    missing = await billing.get("/i/this-is-not-an-invoice-id")
    assert missing.status == 404 and "Invoice not found" in await missing.text()


async def test_pdf_service_down_keeps_billing_working(billing_without_pdf, auth, helpers):
    client = billing_without_pdf
    setup = await helpers.setup(client, await auth.bearer())
    status, created = await helpers.call(
        client, "POST", "/api/v1/invoices", setup.headers, body_for(setup)
    )
    invoice_id = created["data"]["id"]
    status, approved = await helpers.call(
        client, "POST", f"/api/v1/invoices/{invoice_id}/approve", setup.headers, {}
    )
    assert status == 200 and approved["data"]["status"] == "approved"  # approval stands
    status, body = await helpers.call(
        client, "GET", f"/api/v1/invoices/{invoice_id}/download", setup.headers
    )
    assert (status, body["error_code"]) == (503, "SERVICE_UNAVAILABLE")
    status, body = await helpers.call(
        client, "POST", f"/api/v1/invoices/{invoice_id}/regenerate-pdf", setup.headers
    )
    assert status == 503
    status, _ = await helpers.call(
        client, "POST", f"/api/v1/invoices/{invoice_id}/pay", setup.headers, {"amount": 10}
    )
    assert status == 200
    page = await client.get(
        approved["data"]["public_url"][approved["data"]["public_url"].index("/i/") :]
    )
    assert page.status == 200 and "being prepared" in await page.text()
