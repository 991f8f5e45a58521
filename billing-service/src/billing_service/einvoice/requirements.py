"""What each format needs that an invoice may lack, named as the API names it.

`problems(invoice, fmt)` lists every gap at once (the 422 names each field); the builders call
`ensure_complete` first, so an incomplete invoice never becomes an XML file a receiver rejects.
The rules are the official ones that data (rather than our XML) can break: EN 16931's
(BR-*, in every format), Peppol BIS 3.0's (PEPPOL-*) for `ubl`, XRechnung 3.0's (BR-DE-*).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from billing_service.einvoice.model import Invoice, Line, Party
from billing_service.platform.money import quantum

Format = Literal["facturx", "cii", "ubl", "xrechnung"]
FORMATS: tuple[Format, ...] = ("facturx", "cii", "ubl", "xrechnung")

# The model's fields under the API's names; a caller whose API differs passes its own.
API_NAMES: dict[str, str] = {
    "seller.name": "invoicer.company_entity",
    "seller.address.country_code": "invoicer.country_code",
    "seller.address.city": "invoicer.city",
    "seller.address.postcode": "invoicer.postcode",
    "seller.vat_id": "invoicer.vat_id",
    "seller.legal_registration_id": "invoicer.company_registration_number",
    "seller.electronic_address": "invoicer.peppol_id",
    "seller.contact.name": "invoicer.contact_name",
    "seller.contact.phone": "invoicer.phone",
    "seller.contact.email": "invoicer.email",
    "buyer.name": "recipient.company_entity",
    "buyer.address.country_code": "recipient.country_code",
    "buyer.address.city": "recipient.city",
    "buyer.address.postcode": "recipient.postcode",
    "buyer.vat_id": "recipient.vat_id",
    "buyer.electronic_address": "recipient.peppol_id",
    "document.currency": "currency",
    "document.due_date": "due_date",
    "document.buyer_reference": "buyer_reference",
    "document.period": "period",
    "document.delivery_address.country_code": "recipient.country_code",
    "document.delivery_address.city": "recipient.city",
    "document.delivery_address.postcode": "recipient.postcode",
    "lines": "items",
    "payment_means": "payment_detail",
    "payment_means.iban": "payment_detail.iban",
}
LINE_FIELDS = {"vat_rate": "tax_percentage", "vat_category": "vat_category"}


@dataclass(frozen=True)
class Problem:
    field: str  # the API's name
    message: str


class IncompleteInvoice(ValueError):
    def __init__(self, fmt: str, found: list[Problem]) -> None:
        super().__init__(f"{fmt}: " + "; ".join(f"{p.field}: {p.message}" for p in found))
        self.problems = found


def problems(invoice: Invoice, fmt: Format, names: dict[str, str] = API_NAMES) -> list[Problem]:
    """Every gap the format's rules would reject, each named once by its API field."""
    found = [Problem(names.get(path, path), message) for path, message in _gaps(invoice, fmt)]
    unique = {(problem.field, problem.message): problem for problem in found}
    return list(unique.values())


def ensure_complete(invoice: Invoice, fmt: Format) -> None:
    found = problems(invoice, fmt)
    if found:
        raise IncompleteInvoice(fmt, found)


def _gaps(invoice: Invoice, fmt: Format) -> Iterator[tuple[str, str]]:
    yield from _document_gaps(invoice)
    yield from _vat_gaps(invoice)
    if fmt == "ubl":
        yield from _peppol_gaps(invoice)
    if fmt == "xrechnung":
        yield from _xrechnung_gaps(invoice)


def _document_gaps(invoice: Invoice) -> Iterator[tuple[str, str]]:
    for role, party in (("seller", invoice.seller), ("buyer", invoice.buyer)):
        if not _text(party.name):
            yield f"{role}.name", "An e-invoice names both parties (BR-6, BR-7)."
        if not _text(party.address.country_code):
            yield f"{role}.address.country_code", "An e-invoice needs both parties' country."
    seller = invoice.seller
    if not (invoice.stated_vat_id(seller) or seller.legal_registration_id):
        yield "seller.vat_id", "The seller needs a VAT or registration number (BR-CO-26)."
    if not invoice.lines:
        yield "lines", "An e-invoice has at least one line (BR-16)."
    currency = invoice.document.currency
    if quantum(currency) < quantum("EUR"):
        yield (
            "document.currency",
            f"EN 16931 amounts have two decimals at most; {currency} has more.",
        )
    means = invoice.payment_means
    if means and means.code in ("30", "58") and not _text(means.account_id):
        yield "payment_means.iban", "A credit transfer names the account to pay into (BR-61)."
    document = invoice.document
    if invoice.totals.payable > 0 and not (document.due_date or _text(document.payment_terms)):
        yield "document.due_date", "An amount due needs a due date or payment terms (BR-CO-25)."


def _vat_gaps(invoice: Invoice) -> Iterator[tuple[str, str]]:
    categories: set[str] = {line.vat_category for line in invoice.lines}
    seller, buyer = invoice.seller, invoice.buyer
    for line in invoice.lines:
        yield from _line_rate_gaps(line)
    if categories - {"O"} and not (seller.vat_id or seller.tax_registration_id):
        yield "seller.vat_id", "Lines subject to VAT need the seller's VAT identifier."
    if categories & {"AE", "K"} and not buyer.vat_id:
        yield (
            "buyer.vat_id",
            "Reverse charge and intra-community supply need the buyer's VAT identifier.",
        )
    if categories & {"K", "G"} and not seller.vat_id:
        yield (
            "seller.vat_id",
            "Intra-community and export supplies need the seller's VAT identifier.",
        )
    if "K" in categories:
        document = invoice.document
        if not (document.delivery_date or document.period):
            yield (
                "document.period",
                "An intra-community supply states its delivery date or period (BR-IC-11).",
            )
        if not (document.delivery_address and document.delivery_address.country_code):
            yield (
                "document.delivery_address.country_code",
                "An intra-community supply states where it was delivered (BR-IC-12).",
            )
    if "O" in categories:
        yield from _outside_scope_gaps(invoice, categories)


def _line_rate_gaps(line: Line) -> Iterator[tuple[str, str]]:
    path = line.api_path or f"lines.{line.id}"
    if line.vat_category == "S" and line.vat_rate <= 0:
        yield f"{path}.tax_percentage", "A standard-rated line has a tax rate above zero (BR-S-05)."
    if line.vat_category != "S" and line.vat_rate != 0:
        yield (
            f"{path}.tax_percentage",
            f"A line in VAT category {line.vat_category} has a tax rate of 0.",
        )


def _outside_scope_gaps(invoice: Invoice, categories: set[str]) -> Iterator[tuple[str, str]]:
    """O lines stand alone (BR-O-11..14)."""
    if categories == {"O"}:
        return  # the builders leave the VAT identifiers out (BR-O-02, BR-O-03)
    for line in invoice.lines:
        path = line.api_path or f"lines.{line.id}"
        if line.vat_category == "O":
            yield (
                f"{path}.vat_category",
                "Outside-scope (O) lines cannot share an invoice with VAT lines (BR-O-11).",
            )


def _peppol_gaps(invoice: Invoice) -> Iterator[tuple[str, str]]:
    for role, party in (("seller", invoice.seller), ("buyer", invoice.buyer)):
        yield from _electronic_address_gaps(role, party)
    document = invoice.document
    if not (_text(document.buyer_reference) or _text(document.purchase_order_reference)):
        yield (
            "document.buyer_reference",
            "Peppol needs a buyer reference or a purchase order reference (PEPPOL-EN16931-R003).",
        )


def _xrechnung_gaps(invoice: Invoice) -> Iterator[tuple[str, str]]:
    if not _text(invoice.document.buyer_reference):
        yield (
            "document.buyer_reference",
            "XRechnung needs the buyer reference (Leitweg-ID, BR-DE-15).",
        )
    for role, party in (("seller", invoice.seller), ("buyer", invoice.buyer)):
        yield from _electronic_address_gaps(role, party)
        if not _text(party.address.city):
            yield f"{role}.address.city", "XRechnung needs both parties' city (BR-DE-3, BR-DE-8)."
        if not _text(party.address.postcode):
            yield (
                f"{role}.address.postcode",
                "XRechnung needs both parties' postcode (BR-DE-4, BR-DE-9).",
            )
    delivery = invoice.document.delivery_address
    if delivery and not (_text(delivery.city) and _text(delivery.postcode)):
        yield (
            "document.delivery_address.city",
            "XRechnung needs the delivery city and postcode (BR-DE-10, BR-DE-11).",
        )
    contact = invoice.seller.contact
    for field, rule in (("name", "BR-DE-5"), ("phone", "BR-DE-6"), ("email", "BR-DE-7")):
        if not (contact and _text(getattr(contact, field))):
            yield (
                f"seller.contact.{field}",
                f"XRechnung needs the seller's contact {field} ({rule}).",
            )
    if invoice.payment_means is None:
        yield "payment_means", "XRechnung needs payment instructions (BR-DE-1)."


def _electronic_address_gaps(role: str, party: Party) -> Iterator[tuple[str, str]]:
    address = party.electronic_address
    path = f"{role}.electronic_address"
    if address is None:
        yield path, "Needs an electronic address (Peppol ID)."
    elif address.scheme == "0088" and not _valid_gln(address.identifier):
        yield (
            path,
            "A 0088 address is a GLN: 13 digits with a valid check digit (PEPPOL-COMMON-R040).",
        )


def _valid_gln(identifier: str) -> bool:
    if len(identifier) != 13 or not identifier.isdigit():
        return False
    body = [int(digit) for digit in identifier[:12]]
    weighted = sum(digit * (3 if index % 2 else 1) for index, digit in enumerate(body))
    return (10 - weighted % 10) % 10 == int(identifier[12])


def _text(value: str | None) -> bool:
    return bool(value and value.strip())
