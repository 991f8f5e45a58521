"""The document snapshot: an invoice as its customer reads it, display-ready (money and dates
formatted for the locale), the one source of both the PDF (pdf-service) and the public page.

It carries what the EU VAT Directive (art. 226) and EN 16931 put on an invoice: both parties'
names, full addresses and VAT ids (tax and registration numbers where given), the seller's
contact, the dates and payment terms, the number, per line quantity, unit, price and net, the
VAT breakdown per category and rate with the legal wording of exempt, reverse-charge,
intra-community and export lines, subject, buyer reference and PO number, and how to pay.
Pure: no I/O (the logo and today's date come in)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from billing_service.einvoice.model import vat_category_of
from billing_service.invoices.lifecycle import AWAITING_PAYMENT
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.platform.money import round_money
from billing_service.platform.repositories.crud import Row

TITLES = {
    "invoice": "Invoice",
    "quote": "Quote",
    "recurring": "Recurring invoice",
    "template": "Template",
    "credit_note": "Credit note",
}
# The customer's words for where an invoice stands: never an internal status ("Approved").
PAID, PARTLY_PAID, UNPAID, OVERDUE, CREDITED = (
    "Paid",
    "Partly paid",
    "Unpaid",
    "Overdue",
    "Credited",
)
# Before it is issued, and once cancelled, an invoice states no payment status.
NOT_ISSUED = frozenset({"draft", "scheduled", "cancelled"})
# A quote's words, as its customer answers it.
QUOTE_WORDS = {
    "sent": "Awaiting response",
    "approved": "Accepted",
    "converted": "Accepted",
    "declined": "Declined",
}
CATEGORY_NAMES = {
    "S": "Standard rate",
    "Z": "Zero rated",
    "E": "Exempt",
    "AE": "Reverse charge",
    "K": "Intra-community supply",
    "G": "Export",
    "O": "Outside the scope of VAT",
}
# The mention art. 226 (11), (11a) of Directive 2006/112/EC asks for; a line's own exemption
# reason, when it gives one, is printed instead.
LEGAL_WORDING = {
    "E": "Exempt from VAT.",
    "AE": "Reverse charge: VAT to be accounted for by the recipient "
    "(Article 196 of Directive 2006/112/EC).",
    "K": "VAT-exempt intra-Community supply of goods (Article 138 of Directive 2006/112/EC).",
    "G": "VAT-exempt export outside the EU (Article 146 of Directive 2006/112/EC).",
    "O": "Not subject to VAT.",
}


class Formatter:
    """Money and dates as a reader of the given locale expects them."""

    def __init__(self, locale: str, currency: str) -> None:
        self.locale = locale
        self.currency = currency

    def money(self, amount: Decimal) -> str:
        return format_currency(
            round_money(amount, self.currency), self.currency, locale=self.locale
        )

    def date(self, value: date | None) -> str | None:
        return format_date(value, format="long", locale=self.locale) if value else None

    def number(self, value: Decimal) -> str:
        return format_decimal(value.normalize(), locale=self.locale)

    def percent(self, value: Decimal) -> str:
        return f"{self.number(value)}%"

    def country(self, code: str | None) -> str | None:
        if not code or not code.strip():
            return None
        name: str = Locale.parse(self.locale).territories.get(code.strip().upper(), code.strip())
        return name


@dataclass(frozen=True)
class LogoImage:
    media_type: str
    image: bytes


def amounts_of(invoice: Invoice) -> tuple[Decimal, Decimal]:
    """What credit notes and refunds moved on the invoice (0 until they exist for it)."""
    credited = getattr(invoice, "amount_credited", None) or Decimal(0)
    refunded = getattr(invoice, "amount_refunded", None) or Decimal(0)
    return credited, refunded


def customer_status(invoice: Invoice, today: date) -> str | None:
    """Paid, Partly paid, Unpaid, Overdue or Credited, as the API's figures say; None for a
    record that is no issued invoice (a draft, a cancelled one, a template); a quote's answer."""
    if invoice.type == "quote":
        return QUOTE_WORDS.get(invoice.status)
    if invoice.type != "invoice" or invoice.status in NOT_ISSUED:
        return None
    credited, _ = amounts_of(invoice)
    if invoice.status == "credited":
        return CREDITED
    if invoice.status == "paid" or (invoice.total > 0 and invoice.balance_due <= 0):
        return CREDITED if credited >= invoice.total > 0 else PAID
    overdue = invoice.due_date is not None and invoice.due_date < today
    if overdue and invoice.status in AWAITING_PAYMENT:
        return OVERDUE
    if invoice.amount_paid > 0 or credited > 0:
        return PARTLY_PAID
    return UNPAID


def snapshot(
    detail: InvoiceDetail,
    locale: str,
    *,
    today: date | None = None,
    logo: LogoImage | None = None,
    public_url: str | None = None,
) -> dict[str, Any]:
    invoice = detail.invoice
    fmt = Formatter(locale, invoice.currency.strip())
    invoicer, recipient = detail.invoicer or {}, detail.recipient or {}
    items = [item for item in detail.items if item["include"]]
    credit_note = invoice.type == "credit_note"
    return {
        "label": invoice.label,
        "title": TITLES.get(invoice.type, "Invoice"),
        "type": invoice.type,
        "status": customer_status(invoice, today or invoice.scheduled_date),
        "currency": fmt.currency,
        "issue_date": fmt.date(invoice.scheduled_date),
        "due_date": None if credit_note else fmt.date(invoice.due_date),
        "payment_terms": _payment_terms(invoice),
        "valid_until": fmt.date(invoice.valid_until),
        "period": invoice.period,
        "subject": invoice.subject,
        "buyer_reference": invoice.buyer_reference or recipient.get("buyer_reference"),
        "purchase_order_reference": invoice.purchase_order_reference,
        "invoicer": party(invoicer, fmt) | seller_contact(invoicer),
        "recipient": party(recipient, fmt)
        | {"contact": recipient.get("contact_name"), "email": recipient.get("email")},
        "items": [_item(item, fmt) for item in items],
        "vat_breakdown": _vat_breakdown(items, fmt),
        "totals": _credited_totals(invoice, fmt) if credit_note else _totals(invoice, fmt),
        "total_label": "Total credited" if credit_note else "Total",
        # A credit note asks for no payment: it carries what it corrects instead.
        "payment_details": None
        if credit_note
        else _payment_details(detail.payment_detail, invoice.label),
        "credits": _credited_invoice(invoice, detail.credited_invoice, fmt)
        if credit_note
        else None,
        "notes": invoice.notes,
        "logo": logo_part(logo),
        "public_url": public_url,
    }


def postal_address(row: Row, fmt: Formatter) -> str | None:
    """The postal address as written, else the structured one, each with its country."""
    written = (row.get("company_address") or "").strip()
    if written:
        return written
    town = " ".join(part for part in (row.get("postcode"), row.get("city")) if part)
    lines = [row.get("address_line1"), row.get("address_line2"), town]
    lines.append(fmt.country(row.get("country_code")))
    return "\n".join(line for line in lines if line) or None


def party(row: Row, fmt: Formatter) -> dict[str, Any]:
    return {
        "name": row.get("company_entity"),
        "address": postal_address(row, fmt),
        "vat_id": row.get("vat_id"),
        "tax_number": row.get("company_tax_number"),
        "registration_number": row.get("company_registration_number"),
    }


def seller_contact(invoicer: Row) -> dict[str, Any]:
    return {
        "contact": invoicer.get("contact_name"),
        "email": invoicer.get("email"),
        "phone": invoicer.get("phone"),
    }


def _payment_terms(invoice: Invoice) -> str | None:
    if invoice.type != "invoice" or invoice.due_date is None:
        return None
    days = (invoice.due_date - invoice.scheduled_date).days
    if days <= 0:
        return "Due on receipt"
    return f"Net {days} days" if days != 1 else "Net 1 day"


def _item(item: Row, fmt: Formatter) -> dict[str, Any]:
    discount = item["discount"]
    if item["price_includes_discount"] or not discount:
        shown_discount = None
    elif item["discount_percentage"]:
        shown_discount = fmt.percent(discount)
    else:
        shown_discount = fmt.money(discount)
    return {
        "label": item["label"],
        "quantity": fmt.number(item["quantity"]),
        "unit": item["unit"],
        "price": fmt.money(item["price"]),
        "discount": shown_discount,
        "tax": fmt.percent(item["tax_percentage"]),
        "tax_amount": fmt.money(item["tax_amount"]),
        "total": fmt.money(item["net"]),
    }


def _vat_breakdown(items: list[Row], fmt: Formatter) -> list[dict[str, Any]]:
    """Per VAT category and rate: taxable amount, rate, VAT (the lines' stored shares, so the
    breakdown adds up to the invoice's tax), and the legal wording where the category has one."""
    groups: dict[tuple[str, Decimal], list[Row]] = {}
    for item in items:
        category = vat_category_of(item["vat_category"], item["tax_percentage"])
        groups.setdefault((category, item["tax_percentage"].normalize()), []).append(item)
    breakdown = []
    for (category, rate), group in groups.items():
        reasons = sorted(
            {item["vat_exemption_reason"] for item in group if item["vat_exemption_reason"]}
        )
        breakdown.append(
            {
                "category": CATEGORY_NAMES.get(category, category),
                "rate": fmt.percent(rate),
                "taxable": fmt.money(sum((item["net"] for item in group), Decimal(0))),
                "tax": fmt.money(sum((item["tax_amount"] for item in group), Decimal(0))),
                "note": " ".join(reasons) or LEGAL_WORDING.get(category),
            }
        )
    return breakdown


def _totals(invoice: Invoice, fmt: Formatter) -> dict[str, Any]:
    credited, refunded = amounts_of(invoice)
    return {
        "subtotal": fmt.money(invoice.subtotal),
        "tax": fmt.money(invoice.tax),
        "total": fmt.money(invoice.total),
        "amount_paid": fmt.money(invoice.amount_paid),
        # Shown only when something was credited or refunded (room kept for credit notes).
        "amount_credited": fmt.money(credited) if credited else None,
        "amount_refunded": fmt.money(refunded) if refunded else None,
        "balance_due": fmt.money(invoice.balance_due),
    }


def _credited_totals(invoice: Invoice, fmt: Formatter) -> dict[str, Any]:
    """What a credit note credits: nothing paid, nothing due (it is no bill)."""
    return {
        "subtotal": fmt.money(invoice.subtotal),
        "tax": fmt.money(invoice.tax),
        "total": fmt.money(invoice.total),
    }


def _credited_invoice(credit_note: Invoice, credited: Row | None, fmt: Formatter) -> dict[str, Any]:
    """The invoice a credit note corrects (its number and issue date) and why."""
    return {
        "invoice": credited["label"] if credited else None,
        "invoice_date": fmt.date(credited["scheduled_date"]) if credited else None,
        "reason": credit_note.credit_reason,
    }


def _payment_details(payment: Row | None, label: str) -> dict[str, Any] | None:
    if not payment:
        return None
    keys = ("bank_name", "account_name", "account_number", "iban", "swift")
    # The invoice number is the payment reference, as in the e-invoice (BT-83).
    return {key: payment.get(key) for key in keys} | {"reference": label}


def logo_part(logo: LogoImage | None) -> dict[str, str] | None:
    if logo is None:
        return None
    return {"media_type": logo.media_type, "data": base64.b64encode(logo.image).decode()}
