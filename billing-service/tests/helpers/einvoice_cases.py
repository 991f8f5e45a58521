"""Test invoices for the e-invoice builders, priced by the API's own code.

Each case is the API's item input priced by `invoice_pricing.price_items` (money.py's line
math) and mapped to the e-invoice model as the API maps it, so every case also proves the XML
and the API's totals agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from billing_service.einvoice.model import (
    Address,
    Contact,
    Document,
    ElectronicAddress,
    Invoice,
    Line,
    Party,
    PaymentMeans,
    Period,
    assemble,
    line_from_item,
    unit_code_for,
)
from billing_service.invoices.services.pricing import invoice_totals, price_items
from billing_service.platform.money import LineAmounts, LineInput

D = Decimal


def gln(body: str) -> str:
    """A GS1 GLN: the 12 digits and their check digit."""
    weighted = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(body))
    return body + str((10 - weighted % 10) % 10)


SELLER = Party(
    name="Nordlicht Software GmbH",
    address=Address("DE", "Friedrichstraße 123", "3. OG", "Berlin", "10117"),
    vat_id="DE123456789",
    tax_registration_id="30/123/45678",
    legal_registration_id="HRB 123456 B",
    electronic_address=ElectronicAddress("9930", "DE123456789"),
    contact=Contact("Erika Mustermann", "+49 30 1234567", "billing@nordlicht.example"),
)
BUYER_DE = Party(
    name="Stadtwerke Musterstadt",
    address=Address("DE", "Rathausplatz 1", None, "Musterstadt", "12345"),
    vat_id="DE987654321",
    electronic_address=ElectronicAddress("0204", "991-12345-67"),
    contact=Contact(email="rechnungen@stadtwerke.example"),
)
BUYER_FR = Party(
    name="Atelier Lumière SARL",
    address=Address("FR", "12 rue de la Paix", None, "Paris", "75002"),
    vat_id="FR61954506077",
    electronic_address=ElectronicAddress("0088", gln("376012345678")),
)
BUYER_US = Party(
    name="Harbor Freight Analytics Inc.",
    address=Address("US", "500 Market Street", "Suite 4", "San Francisco", "94105"),
    electronic_address=ElectronicAddress("0088", gln("061414100001")),
)
PAYMENT = PaymentMeans.from_bank_account("DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "Nordlicht")


def document(**changes: Any) -> Document:
    base = Document(
        number="RE-2026-0042",
        issue_date=date(2026, 11, 2),
        currency="EUR",
        due_date=date(2026, 12, 2),
        buyer_reference="991-12345-67",
        purchase_order_reference="PO-7781",
        note="Thank you for your business.",
        period=Period(date(2026, 10, 1), date(2026, 10, 31)),
    )
    return dataclasses.replace(base, **changes)


def item(label: str, quantity: str, price: str, tax: str, **extra: Any) -> dict[str, Any]:
    """One line of the API's input (POST /invoices `items`), e-invoice fields included."""
    return {
        "label": label,
        "quantity": D(quantity),
        "price": D(price),
        "tax_percentage": D(tax),
    } | {key: D(value) if key == "discount" else value for key, value in extra.items()}


def lines_from_items(items: list[dict[str, Any]], currency: str) -> list[Line]:
    """The API's mapping: priced items (excluded ones left out) to e-invoice lines."""
    lines = []
    for priced, given in zip(price_items(items, currency, D(0)), items, strict=True):
        if not priced["include"]:
            continue
        category = given.get("vat_category") or ("S" if priced["tax_percentage"] > 0 else "Z")
        lines.append(
            line_from_item(
                line_id=str(priced["position"] + 1),
                name=priced["label"],
                line=_line_input(priced),
                amounts=LineAmounts(priced["net"], priced["tax_amount"]),
                currency=currency,
                unit_code=given.get("unit_code") or unit_code_for(priced["unit"]),
                vat_category=category,
                exemption_reason=given.get("vat_exemption_reason"),
                api_path=f"items.{priced['position']}",
            )
        )
    return lines


def _line_input(priced: dict[str, Any]) -> LineInput:
    return LineInput(
        quantity=priced["quantity"],
        price=priced["price"],
        tax_percentage=priced["tax_percentage"],
        discount=priced["discount"],
        discount_percentage=priced["discount_percentage"],
        price_includes_tax=priced["price_includes_tax"],
        price_includes_discount=priced["price_includes_discount"],
        include=priced["include"],
    )


def api_totals(items: list[dict[str, Any]], currency: str) -> dict[str, Decimal]:
    """What the API answers as the invoice's subtotal, tax and total."""
    return invoice_totals(price_items(items, currency, D(0)))


@dataclasses.dataclass(frozen=True)
class Case:
    items: list[dict[str, Any]]
    document: Document = dataclasses.field(default_factory=document)
    buyer: Party = BUYER_DE
    seller: Party = SELLER
    prepaid: Decimal = dataclasses.field(default_factory=Decimal)
    payment: PaymentMeans | None = PAYMENT

    def invoice(self) -> Invoice:
        return assemble(
            document=self.document,
            seller=self.seller,
            buyer=self.buyer,
            lines=lines_from_items(self.items, self.document.currency),
            prepaid=self.prepaid,
            payment_means=self.payment,
        )


def _long_items() -> list[dict[str, Any]]:
    """60 lines whose per-line tax rounding drifts from the per-category rounding."""
    return [
        item(f"Support ticket {n}", str(1 + n % 4), f"{3 + n % 7}.{(n * 37) % 100:02d}5", "19")
        if n % 3
        else item(f"Hosting day {n}", "1.5", f"{11 + n % 5}.33", "7", unit="day")
        for n in range(60)
    ]


CASES: dict[str, Callable[[], Case]] = {
    "several_rates": lambda: Case(
        [
            item("Consulting", "12.5", "95", "19", unit="hour"),
            item("Handbook", "3", "24.90", "7", unit="pcs"),
            item("Export documentation", "1", "40", "0"),
            item("Licence", "1", "1200", "19", unit="year"),
        ]
    ),
    "discounts": lambda: Case(
        [
            item("Workshop", "2", "1450", "19", discount="12.5", discount_percentage=True),
            item("Travel", "1", "389.99", "19", discount="39.99"),
            item("Materials", "7.25", "3.333", "7", discount="3", discount_percentage=True),
            item(
                "Setup (discount in price)",
                "1",
                "180",
                "19",
                discount="20",
                price_includes_discount=True,
            ),
            item("Left out", "1", "999", "19", include=False),
        ]
    ),
    "tax_inclusive": lambda: Case(
        [
            item("Ticket", "3", "119", "19", price_includes_tax=True),
            item(
                "Book",
                "2",
                "21.40",
                "7",
                price_includes_tax=True,
                discount="10",
                discount_percentage=True,
            ),
            item("Voucher", "1", "49.99", "19", price_includes_tax=True, discount="5"),
        ]
    ),
    "reverse_charge": lambda: Case(
        [
            item("Software development", "40", "110", "0", unit="hour", vat_category="AE"),
            item("Code review", "6", "95", "0", unit="hour", vat_category="AE"),
        ],
        buyer=BUYER_FR,
    ),
    "zero_rated_export": lambda: Case(
        [
            item("Analytics platform licence", "1", "24000", "0", vat_category="G"),
            item(
                "Onboarding",
                "16",
                "140",
                "0",
                unit="hour",
                vat_category="G",
                vat_exemption_reason="Export of services outside the EU",
            ),
        ],
        buyer=BUYER_US,
        document=document(currency="USD"),
    ),
    "jpy": lambda: Case(
        [
            item("Consulting", "1.5", "333", "10", unit="hour"),
            item("Tea set", "3", "4980", "8", unit="pcs"),
            item("Seminar", "2", "15000", "10", discount="5", discount_percentage=True),
        ],
        document=document(currency="JPY"),
    ),
    "partly_paid": lambda: Case(
        [
            item("Website redesign", "1", "8400", "19"),
            item("Hosting", "12", "29.90", "19", unit="month"),
        ],
        prepaid=D("2500.00"),
    ),
    "long": lambda: Case(_long_items()),
    "account_without_iban": lambda: Case(
        [item("Consulting", "8", "120", "19", unit="hour")],
        payment=PaymentMeans.from_bank_account(None, "CHASUS33XXX", "Nordlicht", "0012345678"),
    ),
    "intra_community": lambda: Case(
        [item("Server racks", "4", "2150", "0", unit="pcs", vat_category="K")],
        buyer=BUYER_FR,
        document=document(delivery_date=date(2026, 10, 28), delivery_address=BUYER_FR.address),
    ),
    "exempt": lambda: Case(
        [
            item(
                "Training course",
                "1",
                "1800",
                "0",
                vat_category="E",
                vat_exemption_reason="Exempt under §4 Nr. 21 UStG",
            )
        ],
    ),
    "outside_scope": lambda: Case(
        [item("Damages (no supply)", "1", "750", "0", vat_category="O")],
    ),
    "credit_note": lambda: Case(
        [item("Refund: consulting", "2", "95", "19", unit="hour")],
        document=document(type_code="381", number="GS-2026-0007"),
    ),
}
