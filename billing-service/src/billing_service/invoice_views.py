"""Invoices as API answers: money per currency, the seeds' field names alongside the API's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing_service import lifecycle
from billing_service.money import format_money
from billing_service.repositories.crud import Row
from billing_service.repositories.invoices import Invoice, ListedInvoice
from billing_service.services.invoices import InvoiceDetail
from billing_service.views import decimal_str, invoicer_view, payment_detail_view, recipient_view

ESTIMATE_STATUS = {"declined": "rejected"}


def _quantity(value: Decimal) -> str:
    return format(value.normalize(), "f")


def item_view(item: Row, currency: str) -> dict[str, Any]:
    return {
        "id": item["id"],
        "label": item["label"],
        "description": item["label"],
        "unit": item["unit"],
        "quantity": _quantity(item["quantity"]),
        "price": decimal_str(item["price"]),
        "unit_price": decimal_str(item["price"]),
        "tax_percentage": decimal_str(item["tax_percentage"]),
        "discount_percentage": item["discount_percentage"],
        "discount": decimal_str(item["discount"]),
        "price_includes_tax": item["price_includes_tax"],
        "price_includes_discount": item["price_includes_discount"],
        "include": item["include"],
        "product_id": item["product_id"],
        "net": format_money(item["net"], currency),
        "tax": format_money(item["tax_amount"], currency),
        "total": format_money(item["total"], currency),
    }


def invoice_view(
    invoice: Invoice,
    base_url: str,
    *,
    listed: ListedInvoice | None = None,
    detail: InvoiceDetail | None = None,
    estimate: bool = False,
) -> dict[str, Any]:
    currency = invoice.currency.strip()

    def money(value: Decimal) -> str:
        return format_money(value, currency)

    status = ESTIMATE_STATUS.get(invoice.status, invoice.status) if estimate else invoice.status
    view: dict[str, Any] = {
        "id": invoice.id,
        "company_id": invoice.company_id,
        "type": invoice.type,
        "status": status,
        "label": invoice.label,
        "invoice_number": invoice.label,
        "invoicer_id": invoice.invoicer_id,
        "invoice_recipient_id": invoice.invoice_recipient_id,
        "customer_id": invoice.invoice_recipient_id,
        "invoicer_payment_detail_id": invoice.invoicer_payment_detail_id,
        "currency": currency,
        "scheduled_date": invoice.scheduled_date,
        "issue_date": invoice.scheduled_date,
        "due_date": invoice.due_date,
        "valid_until": invoice.valid_until,
        "subject": invoice.subject,
        "period": invoice.period,
        "recurring": invoice.recurring,
        "next_run_date": invoice.next_run_date,
        "invoice_parent_id": invoice.invoice_parent_id,
        "auto_send": invoice.auto_send,
        "end_date": invoice.end_date,
        "max_runs": invoice.max_runs,
        "run_count": invoice.run_count,
        "description": invoice.description,
        "notes": invoice.notes,
        "subtotal": money(invoice.subtotal),
        "tax": money(invoice.tax),
        "total": money(invoice.total),
        "amount_paid": money(invoice.amount_paid),
        "balance_due": money(invoice.balance_due),
        "public_url": f"{base_url}/i/{invoice.public_id}",
        "approved_at": invoice.approved_at,
        "sent_at": invoice.sent_at,
        "paid_at": invoice.paid_at,
        "cancelled_at": invoice.cancelled_at,
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
        "available_actions": lifecycle.available_actions(
            invoice.type, invoice.status, invoice.amount_paid, invoice.balance_due
        ),
        "version": invoice.version,
    }
    recipient: dict[str, Any] | None = None
    payment_method = None
    last_paid_date = None
    if listed is not None:
        if invoice.invoice_recipient_id is not None:
            recipient = {
                "id": invoice.invoice_recipient_id,
                "name": listed.recipient_name,
                "email": listed.recipient_email,
            }
        payment_method = listed.last_payment_method
        last_paid_date = listed.last_paid_date
    if detail is not None:
        view["items"] = [item_view(item, currency) for item in detail.items]
        view["payments"] = [
            {
                "id": payment["id"],
                "amount": money(payment["amount"]),
                "paid_date": payment["paid_date"],
                "reference": payment["reference"],
                "payment_method": payment["payment_method"],
                "created_at": payment["created_at"],
            }
            for payment in detail.payments
        ]
        view["history"] = detail.history
        view["members"] = detail.members
        view["invoicer"] = invoicer_view(detail.invoicer) if detail.invoicer else None
        view["recipient"] = recipient_view(detail.recipient) if detail.recipient else None
        view["payment_detail"] = (
            payment_detail_view(detail.payment_detail) if detail.payment_detail else None
        )
        if detail.recipient is not None:
            recipient = {
                "id": detail.recipient["id"],
                "name": detail.recipient["company_entity"],
                "email": detail.recipient["email"],
            }
        if detail.payments:
            payment_method = detail.payments[-1]["payment_method"]
            last_paid_date = detail.payments[-1]["paid_date"]
    view["customer"] = recipient
    # INNOVATECH's client portal names, so its clients keep working.
    view |= {
        "invoicenum": invoice.label,
        "date": invoice.scheduled_date,
        "duedate": invoice.due_date,
        # The date the settling payment was made (it may be back-dated), not when it was
        # recorded.
        "datepaid": (last_paid_date or invoice.paid_at.date()) if invoice.paid_at else None,
        "paymentmethod": payment_method,
    }
    if invoice.type == "quote":
        view |= {
            "stage": status,
            "datecreated": invoice.scheduled_date,
            "validuntil": invoice.valid_until,
            "tax1": money(invoice.tax),
            "tax2": money(Decimal(0)),
            "customernotes": invoice.notes,
        }
    return view


# What a client-portal user sees of an invoice or a quote: only these fields, picked from the
# member view, so a field added there (internal notes, history, who created it, ...) never
# reaches the portal unless it is listed here.
CLIENT_FIELDS = (
    "id",
    "type",
    "status",
    "label",
    "invoice_number",
    "currency",
    "scheduled_date",
    "issue_date",
    "due_date",
    "valid_until",
    "subject",
    "period",
    "notes",
    "subtotal",
    "tax",
    "total",
    "amount_paid",
    "balance_due",
    "public_url",
    "approved_at",
    "sent_at",
    "paid_at",
    "cancelled_at",
    "customer",
    # INNOVATECH's portal names
    "invoicenum",
    "date",
    "duedate",
    "datepaid",
    "paymentmethod",
    "stage",
    "datecreated",
    "validuntil",
    "tax1",
    "tax2",
    "customernotes",
)
CLIENT_ITEM_FIELDS = (
    "label",
    "description",  # the line's text (its label), not the invoice's internal description
    "unit",
    "quantity",
    "price",
    "unit_price",
    "tax_percentage",
    "discount_percentage",
    "discount",
    "price_includes_tax",
    "price_includes_discount",
    "net",
    "tax",
    "total",
)
CLIENT_PAYMENT_FIELDS = ("amount", "paid_date", "reference", "payment_method")
CLIENT_PARTY_FIELDS = (  # the invoicer and the recipient, as the document prints them
    "company_entity",
    "contact_name",
    "email",
    "phone",
    "company_address",
    "company_tax_number",
    "company_registration_number",
)
CLIENT_PAYMENT_DETAIL_FIELDS = (
    "label",
    "bank_name",
    "account_name",
    "account_number",
    "iban",
    "swift",
)


# INNOVATECH's portal words (docs/api.md, "Compatibility decisions"). "Refunded" joins them once the
# platform records refunds; it records none yet. A quote withdrawn (cancelled) is "Dead", the
# portal's word for a quote that can no longer be accepted.
PORTAL_INVOICE_STATUS = {
    "scheduled": "Unpaid",
    "due": "Unpaid",
    "approved": "Unpaid",
    "sent": "Unpaid",  # also once past its due date: overdue is still unpaid
    "paid": "Paid",
    "cancelled": "Cancelled",
}
PORTAL_QUOTE_STAGE = {
    "scheduled": "Delivered",
    "due": "Delivered",
    "sent": "Delivered",
    "approved": "Accepted",
    "converted": "Accepted",
    "declined": "Lost",
    "cancelled": "Dead",
}
# Text the portal's documents print as strings: "" when empty, never null.
PORTAL_TEXT_FIELDS = ("subject", "notes", "customernotes", "paymentmethod")


def statuses_for_portal_word(invoice_type: str, word: str) -> list[str] | None:
    """The statuses a portal word stands for (`Unpaid`: scheduled, due, approved, sent), in
    any letter case; None when it is no portal word."""
    words = PORTAL_QUOTE_STAGE if invoice_type == "quote" else PORTAL_INVOICE_STATUS
    statuses = [status for status, shown in words.items() if shown.lower() == word.lower()]
    return statuses or None


def portal_status(invoice_type: str, status: str) -> str:
    words = PORTAL_QUOTE_STAGE if invoice_type == "quote" else PORTAL_INVOICE_STATUS
    return words.get(status, status.capitalize())


def _pick(source: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: source[name] for name in names if name in source}


def _pick_optional(source: dict[str, Any] | None, names: tuple[str, ...]) -> Any:
    return _pick(source, names) if source is not None else None


def client_invoice_view(
    invoice: Invoice,
    base_url: str,
    *,
    listed: ListedInvoice | None = None,
    detail: InvoiceDetail | None = None,
    estimate: bool = False,
) -> dict[str, Any]:
    """The client-portal view: built from the allow-lists above only, in the portal's words."""
    full = invoice_view(invoice, base_url, listed=listed, detail=detail, estimate=estimate)
    view = _pick(full, CLIENT_FIELDS)
    view["status"] = portal_status(invoice.type, invoice.status)
    if invoice.type == "quote":
        view["stage"] = view["status"]
    for name in PORTAL_TEXT_FIELDS:
        if name in view and view[name] is None:
            view[name] = ""
    if detail is not None:
        view["items"] = [
            _pick(item, CLIENT_ITEM_FIELDS) for item in full["items"] if item["include"]
        ]
        view["payments"] = [_pick(payment, CLIENT_PAYMENT_FIELDS) for payment in full["payments"]]
        view["invoicer"] = _pick_optional(full["invoicer"], CLIENT_PARTY_FIELDS)
        view["recipient"] = _pick_optional(full["recipient"], CLIENT_PARTY_FIELDS)
        view["payment_detail"] = _pick_optional(
            full["payment_detail"], CLIENT_PAYMENT_DETAIL_FIELDS
        )
    return view
