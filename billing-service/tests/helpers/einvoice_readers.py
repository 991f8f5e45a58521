"""Independent readers of the generated XML, for round trips: drafthorse (a CII library)
parses CII; UBL has no maintained reader on PyPI (en16931 0.2 rejects a valid BT-32 tax
scheme), so XPath over the official UBL 2.1 names reads it. Both give `summary`'s shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drafthorse.models.document import Document as DrafthorseDocument
from lxml import etree

from billing_service.einvoice.model import Invoice

D = Decimal


def summary(invoice: Invoice) -> dict[str, Any]:
    totals = invoice.totals
    return {
        "number": invoice.document.number,
        "type": invoice.document.type_code,
        "currency": invoice.document.currency,
        "totals": [
            totals.line_total,
            totals.tax_exclusive,
            totals.tax,
            totals.tax_inclusive,
            totals.prepaid,
            totals.payable,
        ],
        "parties": [
            (
                party.name,
                invoice.stated_vat_id(party),
                party.address.country_code,
                party.address.city,
            )
            for party in (invoice.seller, invoice.buyer)
        ],
        "lines": [
            (
                line.id,
                line.name,
                line.quantity,
                line.unit_code,
                line.net_price,
                line.allowance,
                line.net_amount,
                line.vat_category,
                line.vat_rate,
            )
            for line in invoice.lines
        ],
        "vat": [
            (entry.category, entry.rate, entry.taxable_amount, entry.tax_amount)
            for entry in invoice.vat_breakdown
        ],
    }


def read_cii(xml: bytes) -> dict[str, Any]:
    """drafthorse (a CII library) parses the document."""
    parsed = DrafthorseDocument.parse(xml)
    settlement = parsed.trade.settlement
    sums = settlement.monetary_summation
    tax = [D(amount) for amount, _currency in sums.tax_total_other_currency.children]
    agreement = parsed.trade.agreement
    return {
        "number": parsed.header.id._text,
        "type": parsed.header.type_code._text,
        "currency": settlement.currency_code._text,
        "totals": [
            sums.line_total._value,
            sums.tax_basis_total._amount,
            *tax,
            sums.grand_total._amount,
            sums.prepaid_total._value or D(0),
            sums.due_amount._value,
        ],
        "parties": [_cii_party(agreement.seller), _cii_party(agreement.buyer)],
        "lines": [_cii_line(line) for line in parsed.trade.items.children],
        "vat": [
            (
                tax.category_code._text,
                tax.rate_applicable_percent._value,
                tax.basis_amount._value,
                tax.calculated_amount._value,
            )
            for tax in settlement.trade_tax.children
        ],
    }


def _cii_party(party: Any) -> tuple[Any, ...]:
    vat = [reg.id._text for reg in party.tax_registrations.children if reg.id._scheme_id == "VA"]
    return (
        party.name._text,
        vat[0] if vat else None,
        party.address.country_id._text,
        party.address.city_name._text or None,
    )


def _cii_line(line: Any) -> tuple[Any, ...]:
    settlement = line.settlement
    allowances = [charge.actual_amount._value for charge in settlement.allowance_charge.children]
    return (
        line.document.line_id._text,
        line.product.name._text,
        line.delivery.billed_quantity._amount,
        line.delivery.billed_quantity._unit_code,
        line.agreement.net.amount._value,
        sum(allowances, D(0)),
        settlement.monetary_summation.total_amount._value,
        settlement.trade_tax.category_code._text,
        settlement.trade_tax.rate_applicable_percent._value,
    )


UBL_NAMES = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def read_ubl(xml: bytes) -> dict[str, Any]:
    """No maintained UBL reader is on PyPI: XPath over the official UBL 2.1 names."""
    root = etree.fromstring(xml)

    def text(node: Any, path: str) -> str | None:
        found = node.xpath(f"{path}/text()", namespaces=UBL_NAMES)
        return str(found[0]) if found else None

    def amount(node: Any, path: str) -> Decimal:
        return D(text(node, path) or "0")

    credit = etree.QName(root).localname == "CreditNote"
    totals = root.find("cac:LegalMonetaryTotal", UBL_NAMES)
    return {
        "number": text(root, "cbc:ID"),
        "type": text(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode"),
        "currency": text(root, "cbc:DocumentCurrencyCode"),
        "totals": [
            amount(totals, "cbc:LineExtensionAmount"),
            amount(totals, "cbc:TaxExclusiveAmount"),
            amount(root, "cac:TaxTotal/cbc:TaxAmount"),
            amount(totals, "cbc:TaxInclusiveAmount"),
            amount(totals, "cbc:PrepaidAmount"),
            amount(totals, "cbc:PayableAmount"),
        ],
        "parties": [
            (
                text(party, "cac:PartyName/cbc:Name"),
                text(party, "cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"),
                text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
                text(party, "cac:PostalAddress/cbc:CityName"),
            )
            for party in (
                root.find("cac:AccountingSupplierParty/cac:Party", UBL_NAMES),
                root.find("cac:AccountingCustomerParty/cac:Party", UBL_NAMES),
            )
        ],
        "lines": [
            (
                text(line, "cbc:ID"),
                text(line, "cac:Item/cbc:Name"),
                D(text(line, "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity") or ""),
                line.find(
                    "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity", UBL_NAMES
                ).get("unitCode"),
                amount(line, "cac:Price/cbc:PriceAmount"),
                amount(line, "cac:AllowanceCharge/cbc:Amount"),
                amount(line, "cbc:LineExtensionAmount"),
                text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID"),
                amount(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
            )
            for line in root.iterfind(
                "cac:CreditNoteLine" if credit else "cac:InvoiceLine", UBL_NAMES
            )
        ],
        "vat": [
            (
                text(subtotal, "cac:TaxCategory/cbc:ID"),
                amount(subtotal, "cac:TaxCategory/cbc:Percent"),
                amount(subtotal, "cbc:TaxableAmount"),
                amount(subtotal, "cbc:TaxAmount"),
            )
            for subtotal in root.iterfind("cac:TaxTotal/cac:TaxSubtotal", UBL_NAMES)
        ],
    }
