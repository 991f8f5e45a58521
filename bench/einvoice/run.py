"""E-invoices: the time to produce each format for a one-page and a ten-page invoice, next to
the plain PDF, in process (no stack): the same code paths the API runs, without the network.

- pdf: pdf-service's renderer on the invoice's snapshot (what /download stores);
- cii, ubl, xrechnung: the records mapped to the EN 16931 model (einvoice_mapping) and the
  XML built (einvoice.cii / einvoice.ubl), as GET /invoices/{id}/einvoice does per request;
- facturx: the PDF, the CII, and pdf-service's embedding (PDF/A-3, factur-x library).

    uv run python bench/einvoice/run.py

Prints a markdown table and writes bench/out/einvoice.json.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from billing_service.documents.services.documents import snapshot
from billing_service.einvoice.cii import build_cii
from billing_service.einvoice.ubl import build_ubl, build_xrechnung
from billing_service.invoices.einvoice_mapping import einvoice_of
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import COLUMNS, Invoice
from billing_service.platform.money import LineInput, line_amounts
from pdf_service.facturx import make_facturx
from pdf_service.render import configure_reportlab, render_invoice

OUT = Path(__file__).resolve().parents[2] / "bench" / "out"
RUNS = 15


def _item(position: int) -> dict[str, Any]:
    quantity, price, rate = Decimal(40), Decimal("150.00"), Decimal(19 if position % 3 else 7)
    amounts = line_amounts(
        LineInput(quantity, price, rate, Decimal(10), discount_percentage=True), "EUR"
    )
    return {
        "position": position,
        "label": f"Web development, sprint {position + 1}",
        "unit": "hour",
        "quantity": quantity,
        "price": price,
        "tax_percentage": rate,
        "discount_percentage": True,
        "discount": Decimal(10),
        "price_includes_tax": False,
        "price_includes_discount": False,
        "include": True,
        "product_id": None,
        "net": amounts.net,
        "tax_amount": amounts.tax,
        "total": amounts.total,
        "vat_category": None,
        "vat_exemption_reason": None,
        "unit_code": None,
    }


def _party(name: str, country: str, vat_id: str, peppol_id: str) -> dict[str, Any]:
    return {
        "company_entity": name,
        "company_address": "Hauptstraße 1\n10115 Berlin",
        "company_tax_number": None,
        "company_registration_number": "HRB 12345",
        "address_line1": "Hauptstraße 1",
        "address_line2": None,
        "city": "Berlin",
        "postcode": "10115",
        "country_code": country,
        "vat_id": vat_id,
        "peppol_id": peppol_id,
        "contact_name": "Anna Schmidt",
        "phone": "+49 30 1234567",
        "email": "billing@acme.example",
        "buyer_reference": "04011000-12345-03",
    }


def detail(lines: int) -> InvoiceDetail:
    items = [_item(n) for n in range(lines)]
    net = sum((item["net"] for item in items), Decimal(0))
    tax = sum((item["tax_amount"] for item in items), Decimal(0))
    now = datetime.now(UTC)
    fields: dict[str, Any] = dict.fromkeys(COLUMNS) | {
        "id": 1,
        "company_id": 1,
        "public_id": "x" * 22,
        "type": "invoice",
        "status": "approved",
        "label": "INV-0042",
        "currency": "EUR",
        "scheduled_date": date(2025, 6, 1),
        "due_date": date(2025, 6, 30),
        "subtotal": net,
        "tax": tax,
        "total": net + tax,
        "amount_paid": Decimal(0),
        "auto_send": False,
        "run_count": 0,
        "version": 1,
        "created_by": 1,
        "created_at": now,
        "updated_at": now,
    }
    return InvoiceDetail(
        Invoice(**fields),
        items,
        [],
        [],
        [],
        _party("Acme GmbH", "DE", "DE123456789", "9930:DE123456789"),
        _party("Kunde AG", "DE", "DE987654321", "0088:4035811991014"),
        {"iban": "DE89370400440532013000", "swift": "COBADEFFXXX", "account_name": "Acme GmbH"},
    )


def timed(work: Callable[[], Any]) -> float:
    work()  # warm: imports, caches
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def lines_for_pages(pages: int) -> int:
    lines = 1
    while True:
        doc = snapshot(detail(lines), "en_GB")
        if len(PdfReader(io.BytesIO(render_invoice(doc))).pages) >= pages:
            return lines
        lines += 1 if pages == 1 else 10


def measure(lines: int) -> dict[str, float]:
    invoice = detail(lines)
    doc = snapshot(invoice, "en_GB")
    pdf = render_invoice(doc)
    cii = build_cii(einvoice_of(invoice))
    return {
        "pdf": timed(lambda: render_invoice(doc)),
        "cii": timed(lambda: build_cii(einvoice_of(invoice))),
        "ubl": timed(lambda: build_ubl(einvoice_of(invoice))),
        "xrechnung": timed(lambda: build_xrechnung(einvoice_of(invoice))),
        "facturx embedding": timed(lambda: make_facturx(pdf, cii)),
        "facturx (pdf + cii + embedding)": timed(
            lambda: make_facturx(render_invoice(doc), build_cii(einvoice_of(invoice)))
        ),
    }


def main() -> None:
    configure_reportlab()
    results = {}
    for pages in (1, 10):
        lines = 10 if pages == 1 else lines_for_pages(10)
        results[f"{pages} page(s), {lines} lines"] = measure(lines)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "einvoice.json").write_text(json.dumps(results, indent=2))
    columns = list(results)
    print("| format | " + " | ".join(f"{c}, ms" for c in columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for name in next(iter(results.values())):
        print(f"| {name} | " + " | ".join(f"{results[c][name]:.1f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
