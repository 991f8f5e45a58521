"""The e-invoice XML builders alone: CII, UBL (Peppol) and XRechnung for 1 and 100 lines,
the model assembled from API-priced lines each time (what a request pays, less the database).

    uv run python bench/einvoice/xml.py

Prints a markdown table (median of repeated runs, milliseconds).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from billing_service.einvoice.cii import build_cii
from billing_service.einvoice.model import (
    Address,
    Contact,
    Document,
    ElectronicAddress,
    Invoice,
    Party,
    PaymentMeans,
    assemble,
    line_from_item,
)
from billing_service.einvoice.ubl import build_ubl, build_xrechnung
from billing_service.platform.money import LineInput, line_amounts

SELLER = Party(
    "Nordlicht Software GmbH",
    Address("DE", "Friedrichstraße 123", None, "Berlin", "10117"),
    vat_id="DE123456789",
    electronic_address=ElectronicAddress("9930", "DE123456789"),
    contact=Contact("Erika Mustermann", "+49 30 1234567", "billing@nordlicht.example"),
)
BUYER = Party(
    "Stadtwerke Musterstadt",
    Address("DE", "Rathausplatz 1", None, "Musterstadt", "12345"),
    vat_id="DE987654321",
    electronic_address=ElectronicAddress("0204", "991-12345-67"),
)


def invoice(lines: int) -> Invoice:
    items = []
    for n in range(lines):
        line = LineInput(Decimal(1 + n % 5), Decimal(f"{10 + n}.95"), Decimal(19 if n % 2 else 7))
        items.append(
            line_from_item(
                line_id=str(n + 1),
                name=f"Item {n + 1}",
                line=line,
                amounts=line_amounts(line, "EUR"),
                currency="EUR",
                unit_code="C62",
                vat_category="S",
            )
        )
    return assemble(
        document=Document(
            "RE-1",
            date(2026, 11, 2),
            "EUR",
            due_date=date(2026, 12, 2),
            buyer_reference="991-12345-67",
        ),
        seller=SELLER,
        buyer=BUYER,
        lines=items,
        payment_means=PaymentMeans.from_bank_account("DE89370400440532013000"),
    )


def median_ms(work: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    builders = {"cii": build_cii, "ubl": build_ubl, "xrechnung": build_xrechnung}
    print("| format | 1 line (ms) | 100 lines (ms) | 100-line size (KB) |")
    print("|---|---|---|---|")
    for name, build in builders.items():
        one = median_ms(lambda build=build: build(invoice(1)), 200)
        hundred = median_ms(lambda build=build: build(invoice(100)), 50)
        size = len(build(invoice(100))) / 1024
        print(f"| {name} | {one:.2f} | {hundred:.2f} | {size:.0f} |")


if __name__ == "__main__":
    main()
