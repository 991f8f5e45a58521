"""An invoice's records as the neutral EN 16931 invoice (einvoice.model) the XML builders take.

The lines carry the API's own stored figures (each line's rounded net and tax), and the model
derives the VAT breakdown and totals from them: the e-invoice's total, prepaid and payable
amounts are the API's `total`, `amount_paid` and `balance_due` to the cent. Pure: no I/O.

Decisions (docs/api.md, "E-invoices"):
- the invoicer is the seller, the recipient the buyer; `company_tax_number` is the seller's
  tax registration (BT-32), `company_registration_number` each party's legal registration;
- the buyer reference is the invoice's, else its recipient's (XRechnung's Leitweg-ID);
- a payment detail with an IBAN is a SEPA credit transfer (code 58), one with an account
  number but no IBAN a credit transfer (code 30) to that number, their BIC and account name
  alongside, the invoice number as remittance information; one with neither is payment
  means 'not defined' (code 1);
- payments recorded are the prepaid amount (BT-113);
- a line's VAT category is the one it names, else S when it bears tax and Z when not; its
  unit code the one it names, else the one mapped from its unit (einvoice.model);
- an intra-community supply (K) states the issue date as its delivery date and the
  recipient's address as where it was delivered (the API records no delivery of its own).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from billing_service.einvoice import model
from billing_service.einvoice.model import vat_category_of
from billing_service.einvoice.requirements import FORMATS, problems
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.platform.money import LineAmounts, LineInput, round_money
from billing_service.platform.repositories.crud import Row


def einvoice_of(detail: InvoiceDetail) -> model.Invoice:
    """The invoice as EN 16931 sees it; model.TaxRoundingConflict when its line taxes cannot
    be stated under BR-CO-17 (einvoice.model explains when)."""
    invoice = detail.invoice
    currency = invoice.currency.strip()
    lines = [_line(item, currency) for item in detail.items if item["include"]]
    seller, buyer = detail.invoicer or {}, detail.recipient or {}
    return model.assemble(
        document=_document(invoice, buyer, currency, lines),
        seller=_party(seller, seller=True),
        buyer=_party(buyer, seller=False),
        lines=lines,
        prepaid=invoice.amount_paid,
        payment_means=_payment_means(detail.payment_detail, invoice.label),
    )


def _document(
    invoice: Invoice, recipient: Row, currency: str, lines: list[model.Line]
) -> model.Document:
    intra_community = any(line.vat_category == "K" for line in lines)
    return model.Document(
        number=invoice.label,
        issue_date=invoice.scheduled_date,
        currency=currency,
        due_date=invoice.due_date,
        buyer_reference=invoice.buyer_reference or recipient.get("buyer_reference"),
        purchase_order_reference=invoice.purchase_order_reference,
        note=invoice.notes,
        delivery_date=invoice.scheduled_date if intra_community else None,
        delivery_address=_address(recipient) if intra_community else None,
    )


def _address(row: Row) -> model.Address:
    return model.Address(
        country_code=_country(row),
        line1=row.get("address_line1"),
        line2=row.get("address_line2"),
        city=row.get("city"),
        postcode=row.get("postcode"),
    )


def _country(row: Row) -> str | None:
    code = row.get("country_code")
    return code.strip() if code else None


def _party(row: Row, *, seller: bool) -> model.Party:
    peppol_id = row.get("peppol_id")
    contact = model.Contact(row.get("contact_name"), row.get("phone"), row.get("email"))
    return model.Party(
        name=row.get("company_entity") or "",
        address=_address(row),
        vat_id=row.get("vat_id"),
        tax_registration_id=row.get("company_tax_number") if seller else None,
        legal_registration_id=row.get("company_registration_number"),
        electronic_address=model.ElectronicAddress.parse(peppol_id) if peppol_id else None,
        contact=contact if any((contact.name, contact.phone, contact.email)) else None,
    )


def _line(item: Row, currency: str) -> model.Line:
    rate: Decimal = item["tax_percentage"]
    category = vat_category_of(item["vat_category"], rate)
    return model.line_from_item(
        line_id=str(item["position"] + 1),
        name=item["label"],
        line=LineInput(
            quantity=item["quantity"],
            price=item["price"],
            tax_percentage=rate,
            discount=item["discount"],
            discount_percentage=item["discount_percentage"],
            price_includes_tax=item["price_includes_tax"],
            price_includes_discount=item["price_includes_discount"],
        ),
        # The columns keep four places; the amounts are the currency's (as the API shows).
        amounts=LineAmounts(
            round_money(item["net"], currency), round_money(item["tax_amount"], currency)
        ),
        currency=currency,
        unit_code=item["unit_code"] or model.unit_code_for(item["unit"]),
        vat_category=category,  # type: ignore[arg-type]  # the column's CHECK: VatCategory
        exemption_reason=item["vat_exemption_reason"],
        api_path=f"items.{item['position']}",
    )


def _payment_means(row: Row | None, label: str) -> model.PaymentMeans | None:
    if row is None:
        return None
    means = model.PaymentMeans.from_bank_account(
        row["iban"], row["swift"], row["account_name"], row["account_number"]
    )
    return replace(means, remittance_information=label)


def available_formats(detail: InvoiceDetail) -> list[str]:
    """The formats the invoice can be produced in now."""
    if detail.invoice.type != "invoice":
        return []
    try:
        einvoice = einvoice_of(detail)
    except model.TaxRoundingConflict:
        return []
    return [fmt for fmt in FORMATS if not problems(einvoice, fmt)]
