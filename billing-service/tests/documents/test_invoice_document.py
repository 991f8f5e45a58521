"""The invoice document a customer reads: the mandatory content (EU VAT Directive art. 226,
EN 16931) on the PDF and the public page, the customer's status words, a PDF that follows the
invoice (and the one first issued, kept), the invoicer's logo, the default payment detail."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from pypdf import PdfReader

from billing_service.platform.keys import POOL

from .test_documents import fetch_pdf

SELLER = {
    "company_address": "Hauptstraße 1\n10115 Berlin\nGermany",
    "vat_id": "DE123456789",
    "company_tax_number": "27/123/45678",
    "contact_name": "Anna Schmidt",
    "email": "billing@acme.example",
    "phone": "+49 30 1234567",
}
BUYER = {"company_address": "Marktplatz 5\n80331 München", "vat_id": "ATU12345678"}
LINES = [
    {"label": "Consulting", "unit": "hour", "quantity": 10, "price": 100, "tax_percentage": 19},
    {
        "label": "Installation abroad",
        "quantity": 1,
        "price": 50,
        "tax_percentage": 0,
        "vat_category": "AE",
    },
]


async def acme(api, make_setup):
    setup = await make_setup(currency="EUR")
    for path, body in (
        (f"/api/v1/invoicers/{setup.invoicer_id}", SELLER),
        (f"/api/v1/recipients/{setup.recipient_id}", BUYER),
    ):
        status, answer = await api("PATCH", path, setup.headers, body)
        assert status == 200, answer
    return setup


async def issued_invoice(api, setup, **fields):
    """Approved, naming no payment detail (the invoicer's default one is taken)."""
    body = {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "invoicer_payment_detail_id": None,
        "currency": "EUR",
        "scheduled_date": "2025-06-01",
        "due_date": "2025-06-15",
        "subject": "Website relaunch",
        "purchase_order_reference": "PO-4711",
        "buyer_reference": "BR-99",
        "items": LINES,
    } | fields
    status, created = await api("POST", "/api/v1/invoices", setup.headers, body)
    assert status == 201, created
    invoice = created["data"]
    status, answer = await api("POST", f"/api/v1/invoices/{invoice['id']}/approve", setup.headers)
    assert status == 200, answer
    return invoice


async def pdf_of(api, pdf_server, setup, invoice_id, query=""):
    status, answer = await api(
        "GET", f"/api/v1/invoices/{invoice_id}/download{query}", setup.headers
    )
    assert status == 200, answer
    status, body = await fetch_pdf(pdf_server, answer["download_url"])
    assert status == 200
    reader = PdfReader(io.BytesIO(body))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def images_of(reader):
    return [image for page in reader.pages for image in page.images]


MANDATORY = (
    "Acme Ltd",  # seller
    "Hauptstraße 1",
    "10115 Berlin",
    "VAT ID DE123456789",
    "Tax no. 27/123/45678",
    "billing@acme.example",
    "+49 30 1234567",
    "Client Corp",  # buyer
    "Marktplatz 5",
    "VAT ID ATU12345678",
    "INV-0001",
    "Issue date June 1, 2025",
    "Due date June 15, 2025",
    "Payment terms Net 14 days",
    "Subject: Website relaunch",
    "Buyer reference BR-99",
    "PO number PO-4711",
    "Consulting 10 hour €100.00",
    "€1,000.00",
    "VAT breakdown",
    "Standard rate 19% €1,000.00 €190.00",
    "Reverse charge 0% €50.00 €0.00",
    "Reverse charge: VAT to be accounted for by the recipient",
    "IBAN: GB00TEST",
    "Payment reference: INV-0001",
)


async def test_the_pdf_carries_the_mandatory_content_before_and_after_a_payment(
    api, make_setup, pdf_server
):
    setup = await acme(api, make_setup)
    invoice = await issued_invoice(api, setup)
    assert invoice["invoicer_payment_detail_id"] == setup.payment_detail_id  # the default
    _, text = await pdf_of(api, pdf_server, setup, invoice["id"])
    for expected in (*MANDATORY, "Status Unpaid", "Amount paid €0.00", "Balance due €1,240.00"):
        assert expected in text, (expected, text)
    assert "Approved" not in text

    path = f"/api/v1/invoices/{invoice['id']}/pay"
    status, _ = await api("POST", path, setup.headers, {"amount": "240.00"})
    assert status == 200
    _, text = await pdf_of(api, pdf_server, setup, invoice["id"])
    assert "Status Partly paid" in text and "Balance due €1,000.00" in text

    status, _ = await api("POST", path, setup.headers, {"amount": "1000.00"})
    assert status == 200
    status, shown = await api("GET", f"/api/v1/invoices/{invoice['id']}", setup.headers)
    assert shown["data"]["balance_due"] == "0.00"
    _, text = await pdf_of(api, pdf_server, setup, invoice["id"])
    for expected in (*MANDATORY, "Status Paid", "Amount paid €1,240.00", "Balance due €0.00"):
        assert expected in text, expected

    # The PDF as first issued stays retrievable.
    _, issued = await pdf_of(api, pdf_server, setup, invoice["id"], "?version=issued")
    assert "Status Unpaid" in issued and "Balance due €1,240.00" in issued


async def test_a_credit_note_cites_its_invoice_and_asks_for_no_payment(
    api, make_setup, pdf_server, billing
):
    setup = await acme(api, make_setup)
    invoice = await issued_invoice(api, setup)
    status, created = await api(
        "POST",
        f"/api/v1/invoices/{invoice['id']}/credit-notes",
        setup.headers,
        {"reason": "Consulting hours billed twice", "items": LINES[:1]},
    )
    assert status == 201, created
    note = created["data"]
    status, issued = await api("POST", f"/api/v1/invoices/{note['id']}/approve", setup.headers)
    assert status == 200, issued
    assert issued["data"]["total"] == "1190.00"
    assert issued["data"]["balance_due"] == "0.00"
    assert "pay" not in issued["data"]["available_actions"]

    cited = (
        "Credit note for invoice INV-0001 of June 1, 2025",
        "Reason: Consulting hours billed twice",
        "Total credited €1,190.00",
    )
    demands = ("Amount paid", "Balance due", "Payment details", "IBAN", "Due date", "Status")
    _, text = await pdf_of(api, pdf_server, setup, note["id"])
    assert "CREDIT NOTE" in text and note["label"] in text
    for expected in cited:
        assert expected in text, expected
    for demand in demands:
        assert demand not in text, demand

    public_url = note["public_url"]
    page = await billing.get(public_url[public_url.index("/i/") :])
    assert page.status == 200
    html = " ".join((await page.text()).split())
    assert "<h2>Credit note</h2>" in html
    assert "Credit note for invoice INV-0001 of June 1, 2025" in html
    assert "Reason: Consulting hours billed twice" in html
    assert "<span>Total credited</span><span>€1,190.00</span>" in html
    for demand in demands:
        assert demand not in html, demand


async def test_a_download_renders_only_when_the_invoice_changed(
    api, make_setup, pdf_server, billing
):
    setup = await acme(api, make_setup)
    invoice = await issued_invoice(api, setup)
    first = await billing.app[POOL].fetchval(
        "SELECT document_id FROM invoices WHERE id = $1", invoice["id"]
    )
    await pdf_of(api, pdf_server, setup, invoice["id"])
    again = await billing.app[POOL].fetchval(
        "SELECT document_id FROM invoices WHERE id = $1", invoice["id"]
    )
    assert again == first  # same snapshot, same document
    await api("POST", f"/api/v1/invoices/{invoice['id']}/pay", setup.headers, {"amount": "1"})
    await pdf_of(api, pdf_server, setup, invoice["id"])
    paid = await billing.app[POOL].fetchval(
        "SELECT document_id FROM invoices WHERE id = $1", invoice["id"]
    )
    assert paid != first


async def test_a_draft_has_no_issued_version_and_states_no_status(api, make_setup, pdf_server):
    setup = await acme(api, make_setup)
    body = {"invoice_recipient_id": setup.recipient_id, "items": LINES, "currency": "EUR"}
    status, created = await api("POST", "/api/v1/invoices", setup.headers, body)
    assert status == 201
    invoice_id = created["data"]["id"]
    status, answer = await api(
        "GET", f"/api/v1/invoices/{invoice_id}/download?version=issued", setup.headers
    )
    assert status == 409, answer
    status, answer = await api(
        "GET", f"/api/v1/invoices/{invoice_id}/download?version=first", setup.headers
    )
    assert status == 422 and "version" in answer["errors"]
    _, text = await pdf_of(api, pdf_server, setup, invoice_id)
    assert "Status" not in text


async def test_an_invoice_naming_a_payment_detail_keeps_it(api, make_setup):
    setup = await make_setup()
    path = f"/api/v1/invoicers/{setup.invoicer_id}/payment-details"
    status, other = await api("POST", path, setup.headers, {"label": "Other", "iban": "GB11"})
    assert status == 201
    body = {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_payment_detail_id": other["data"]["id"],
        "items": LINES[:1],
    }
    status, created = await api("POST", "/api/v1/invoices", setup.headers, body)
    assert created["data"]["invoicer_payment_detail_id"] == other["data"]["id"]
    without = {"invoice_recipient_id": setup.recipient_id, "items": LINES[:1]}
    status, created = await api("POST", "/api/v1/invoices", setup.headers, without)
    assert created["data"]["invoicer_payment_detail_id"] == setup.payment_detail_id


def image_bytes(fmt: str, size: tuple[int, int], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "red").save(buffer, fmt)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(side: int, with_pixels: bool) -> bytes:
    """A 1-bit grey PNG of side x side px: all of its (zero) pixels, a few hundred kB deflated,
    or only the header claiming them."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    rows = zlib.compress(bytes(side * (1 + (side + 7) // 8)), 9) if with_pixels else b""
    idat = png_chunk(b"IDAT", rows) if with_pixels else b""
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + idat + png_chunk(b"IEND", b"")


async def put_logo(billing, setup, body: bytes, invoicer_id=None, content_type="image/png"):
    response = await billing.put(
        f"/api/v1/invoicers/{invoicer_id or setup.invoicer_id}/logo",
        data=body,
        headers=setup.headers | {"Content-Type": content_type},
    )
    return response.status, await response.json()


async def test_a_logo_is_printed_and_without_one_there_is_no_box(
    api, make_setup, billing, pdf_server
):
    setup = await acme(api, make_setup)
    invoice = await issued_invoice(api, setup)
    reader, _ = await pdf_of(api, pdf_server, setup, invoice["id"])
    assert images_of(reader) == []
    # A JPEG sent as "text/plain": what it is comes from decoding it.
    status, answer = await put_logo(
        billing, setup, image_bytes("JPEG", (1200, 400)), content_type="text/plain"
    )
    assert status == 200, answer
    logo = answer["data"]
    assert (logo["invoicer_id"], logo["width"], logo["height"]) == (setup.invoicer_id, 600, 200)
    reader, _ = await pdf_of(api, pdf_server, setup, invoice["id"])
    assert len(images_of(reader)) == 1
    response = await billing.delete(
        f"/api/v1/invoicers/{setup.invoicer_id}/logo", headers=setup.headers
    )
    assert response.status == 204
    reader, _ = await pdf_of(api, pdf_server, setup, invoice["id"])
    assert images_of(reader) == []
    response = await billing.delete(
        f"/api/v1/invoicers/{setup.invoicer_id}/logo", headers=setup.headers
    )
    assert response.status == 404


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"not an image", 422, "could not be decoded"),
        (b"", 422, "PNG or JPEG"),
        (image_bytes("GIF", (10, 10), "P"), 422, "must be a PNG or JPEG"),
        (image_bytes("PNG", (2001, 10)), 422, "2001 x 10 px"),
        (image_bytes("PNG", (40, 40))[:60], 422, "could not be decoded"),
        (b"\x89PNG" + b"0" * (1024 * 1024), 413, "1 MiB"),
        # Past Pillow's decompression-bomb limits (it warns past 89 Mpx, raises past twice that).
        (bomb_png(20000, with_pixels=True), 422, "at most 2000 x 2000 px"),
        (bomb_png(60000, with_pixels=False), 422, "at most 2000 x 2000 px"),
        (bomb_png(10000, with_pixels=False), 422, "at most 2000 x 2000 px"),
    ],
    ids=["text", "empty", "gif", "too-wide", "truncated", "too-big", "bomb", "bomb-header", "warn"],
)
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
async def test_a_bad_logo_is_refused_naming_the_problem(make_setup, billing, body, status, says):
    setup = await make_setup()
    answered, answer = await put_logo(billing, setup, body)
    assert answered == status, answer
    assert says in answer["message"]
    if status == 422:
        assert list(answer["errors"]) == ["logo"]


async def test_the_logo_needs_invoicers_update_and_the_tenant(make_setup, billing, auth):
    setup = await make_setup()
    stranger = await make_setup()
    png = image_bytes("PNG", (100, 50))
    status, _ = await put_logo(billing, stranger, png, invoicer_id=setup.invoicer_id)
    assert status == 404
    token = await auth.bearer(abilities=["invoicers:read"])  # no invoicers:update
    response = await billing.put(
        f"/api/v1/invoicers/{setup.invoicer_id}/logo",
        data=png,
        headers={**token, "Content-Type": "image/png"},
    )
    assert response.status == 403
