"""A customer's statement drawn by the invoice renderer: read back as its customer reads it
(the text of the PDF), its figures in their order, its branding, and its pages."""

from __future__ import annotations

import base64
import io
import uuid

from PIL import Image
from pypdf import PdfReader

from .test_documents import SECRET, render


def _logo_png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _line(day: int, kind: str, reference: str, description: str, **amounts: str) -> dict:
    return {
        "date": f"June {day}, 2025",
        "type": kind,
        "reference": reference,
        "description": description,
        "debit": amounts.get("debit", ""),
        "credit": amounts.get("credit", ""),
        "balance": amounts["balance"],
    }


def statement_snapshot(lines: list[dict], label: str) -> dict:
    return {
        "label": label,
        "title": "Statement",
        "type": "statement",
        "issue_date": "June 30, 2025",
        "invoicer": {
            "name": "Acme Ltd",
            "address": "Hauptstraße 1\n10115 Berlin",
            "vat_id": "DE123456789",
        },
        "recipient": {"name": "Ködmön Kft.", "address": "Fő utca 1, Budapest"},
        "recipient_title": "CUSTOMER",
        "items": [],
        "totals": {},
        "logo": {"media_type": "image/png", "data": _logo_png()},
        "statement": {
            "currency": "EUR",
            "opening": {"date": "June 1, 2025", "balance": "€10.00"},
            "lines": lines,
            "closing": {"date": "June 30, 2025", "balance": "€89.00"},
            "aging": [
                {"label": "Current", "amount": "€50.00"},
                {"label": "1-30 days", "amount": "€39.00"},
                {"label": "31-60 days", "amount": "€0.00"},
                {"label": "61-90 days", "amount": "€0.00"},
                {"label": "Over 90 days", "amount": "€0.00"},
            ],
            "owed": "€89.00",
            "credit_available": "€0.00",
            "balance_label": "Balance due",
        },
    }


LINES = [
    _line(
        2,
        "Invoice",
        "INV-0001",
        "Invoice INV-0001, due 2025-06-16",
        debit="€119.00",
        balance="€129.00",
    ),
    _line(
        5,
        "Payment",
        "TRX-1",
        "Payment on invoice INV-0001 (bank)",
        credit="€40.00",
        balance="€89.00",
    ),
    _line(9, "Credit applied", "INV-0001", "Credit applied to invoice INV-0001", balance="€89.00"),
]


async def _pdf_text(pdf, snapshot: dict) -> tuple[list[str], PdfReader]:
    status, document = await render(pdf, snapshot)
    assert status == 201, document
    response = await pdf.get(f"/internal/documents/{document['id']}", headers=SECRET)
    assert response.status == 200
    reader = PdfReader(io.BytesIO(await response.read()))
    return [page.extract_text() for page in reader.pages], reader


async def test_a_statement_reads_in_order_with_its_figures_and_branding(pdf):
    (text,), reader = await _pdf_text(pdf, statement_snapshot(LINES, f"ST-{uuid.uuid4().hex}"))
    # Branding as on an invoice: the seller's name, address and VAT id, the logo.
    for expected in (
        "Acme Ltd",
        "Hauptstraße 1",
        "VAT ID DE123456789",
        "STATEMENT",
        "CUSTOMER",
        "Ködmön Kft.",
        "Fő utca 1, Budapest",
    ):
        assert expected in text, expected
    assert "BILL TO" not in text
    images = reader.pages[0].images
    assert len(images) == 1
    # The figures in the order a reader meets them: opening, each line and its running
    # balance, closing, the ages, what makes up the balance.
    in_order = [
        "Opening balance",
        "€10.00",
        "INV-0001",
        "€119.00",
        "€129.00",
        "TRX-1",
        "€40.00",
        "€89.00",
        "Credit applied",
        "INV-0001",
        "Credit applied to invoice",
        "Closing balance",
        "€89.00",
        "Owed by age on June 30, 2025",
        "Current",
        "1-30 days",
        "Over 90 days",
        "€50.00",
        "€39.00",
        "Owed on invoices",
        "Credit available",
        "Balance due",
    ]
    position = 0
    for expected in in_order:
        found = text.find(expected, position)
        assert found >= 0, (expected, text[position:])
        position = found + len(expected)


async def test_a_long_statement_goes_on_over_pages_with_its_header_repeated(pdf):
    lines = [
        _line(
            1 + n % 28,
            "Invoice",
            f"INV-{n:04d}",
            f"Invoice INV-{n:04d}",
            debit="€1.00",
            balance=f"€{n + 11}.00",
        )
        for n in range(120)
    ]
    pages, _ = await _pdf_text(pdf, statement_snapshot(lines, f"ST-{uuid.uuid4().hex}"))
    assert len(pages) >= 3
    assert all("Balance" in page and f"of {len(pages)}" in page for page in pages)
    joined = "".join(pages)
    assert joined.index("INV-0000") < joined.index("INV-0119") < joined.index("Closing balance")


async def test_a_statement_whose_lines_are_not_a_list_is_a_422(pdf):
    snapshot = statement_snapshot(LINES, "ST-bad")
    snapshot["statement"]["lines"] = {"date": "June 1, 2025"}
    response = await pdf.post("/internal/documents", json={"snapshot": snapshot}, headers=SECRET)
    assert response.status == 422
