"""Invoices as API answers (schemas.invoice_views): money per currency, the seeds' field names
alongside the API's, the client portal's own words."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing_service.einvoice.model import unit_code_for, vat_category_of
from billing_service.invoices import lifecycle
from billing_service.invoices.einvoice_mapping import available_formats
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice, ListedInvoice
from billing_service.invoices.views.models import (
    CustomerRef,
    HistoryEntryView,
    InvoiceMemberView,
    InvoiceView,
    PortalInvoicerView,
    PortalInvoiceView,
    PortalItemView,
    PortalPaymentDetailView,
    PortalPaymentView,
    PortalRecipientView,
)
from billing_service.parties.views import InvoicerView, PaymentDetailView, RecipientView
from billing_service.platform.money import round_money
from billing_service.platform.repositories.crud import Row
from billing_service.platform.views import decimal_str

ESTIMATE_STATUS = {"declined": "rejected"}


def _digits(value: Decimal) -> Decimal:
    """The value with the digits the API shows (views.decimal_str): 150.00, 0.125."""
    return Decimal(decimal_str(value) or "0")


def _item(item: Row, currency: str) -> dict[str, Any]:
    return {
        "id": item["id"],
        "label": item["label"],
        "description": item["label"],
        "unit": item["unit"],
        "quantity": Decimal(format(item["quantity"].normalize(), "f")),
        "price": _digits(item["price"]),
        "unit_price": _digits(item["price"]),
        "tax_percentage": _digits(item["tax_percentage"]),
        "discount_percentage": item["discount_percentage"],
        "discount": _digits(item["discount"]),
        "price_includes_tax": item["price_includes_tax"],
        "price_includes_discount": item["price_includes_discount"],
        "include": item["include"],
        "product_id": item["product_id"],
        "net": round_money(item["net"], currency),
        "tax": round_money(item["tax_amount"], currency),
        "total": round_money(item["total"], currency),
        "vat_category": vat_category_of(item["vat_category"], item["tax_percentage"]),
        "vat_exemption_reason": item["vat_exemption_reason"],
        "unit_code": item["unit_code"] or unit_code_for(item["unit"]),
    }


def _payment(payment: Row, currency: str) -> dict[str, Any]:
    return {
        "id": payment["id"],
        "amount": round_money(payment["amount"], currency),
        "paid_date": payment["paid_date"],
        "reference": payment["reference"],
        "payment_method": payment["payment_method"],
        "created_at": payment["created_at"],
        "received_payment_id": payment["received_payment_id"],
        "amount_refunded": round_money(payment["amount_refunded"], currency),
    }


def _customer(
    invoice: Invoice, listed: ListedInvoice | None, detail: InvoiceDetail | None
) -> CustomerRef | None:
    if detail is not None and detail.recipient is not None:
        recipient = detail.recipient
        return CustomerRef(
            id=recipient["id"], name=recipient["company_entity"], email=recipient["email"]
        )
    if listed is not None and invoice.invoice_recipient_id is not None:
        return CustomerRef(
            id=invoice.invoice_recipient_id,
            name=listed.recipient_name,
            email=listed.recipient_email,
        )
    return None


def _last_payment(
    listed: ListedInvoice | None, detail: InvoiceDetail | None
) -> tuple[str | None, Any]:
    """The last payment's method and day (a list row has them joined)."""
    if detail is not None:
        last = detail.payments[-1] if detail.payments else None
        return (last["payment_method"], last["paid_date"]) if last else (None, None)
    if listed is not None:
        return listed.last_payment_method, listed.last_paid_date
    return None, None


def _document(
    invoice: Invoice,
    base_url: str,
    status: str,
    listed: ListedInvoice | None,
    detail: InvoiceDetail | None,
) -> dict[str, Any]:
    """The fields member and client-portal views share (schemas.invoice_views._Document)."""
    currency = invoice.currency.strip()
    payment_method, last_paid_date = _last_payment(listed, detail)
    shown: dict[str, Any] = {
        "id": invoice.id,
        "type": invoice.type,
        "status": status,
        "label": invoice.label,
        "invoice_number": invoice.label,
        "currency": currency,
        "scheduled_date": invoice.scheduled_date,
        "issue_date": invoice.scheduled_date,
        "due_date": invoice.due_date,
        "valid_until": invoice.valid_until,
        "period": invoice.period,
        "subtotal": round_money(invoice.subtotal, currency),
        "tax": round_money(invoice.tax, currency),
        "total": round_money(invoice.total, currency),
        "amount_paid": round_money(invoice.amount_paid, currency),
        "amount_credited": round_money(invoice.amount_credited, currency),
        "amount_refunded": round_money(invoice.amount_refunded, currency),
        "balance_due": round_money(invoice.balance_due, currency),
        "public_url": f"{base_url}/i/{invoice.public_id}",
        "approved_at": invoice.approved_at,
        "sent_at": invoice.sent_at,
        "paid_at": invoice.paid_at,
        "cancelled_at": invoice.cancelled_at,
        "customer": _customer(invoice, listed, detail),
        "invoicenum": invoice.label,
        "date": invoice.scheduled_date,
        "duedate": invoice.due_date,
        # The date the settling payment was made (it may be back-dated), not when it was
        # recorded.
        "datepaid": (last_paid_date or invoice.paid_at.date()) if invoice.paid_at else None,
        "paymentmethod": payment_method,
    }
    if invoice.type == "quote":
        shown |= {
            "stage": status,
            "datecreated": invoice.scheduled_date,
            "validuntil": invoice.valid_until,
            "tax1": round_money(invoice.tax, currency),
            "tax2": round_money(Decimal(0), currency),
            "customernotes": invoice.notes,
        }
    return shown


def invoice_view(
    invoice: Invoice,
    base_url: str,
    *,
    listed: ListedInvoice | None = None,
    detail: InvoiceDetail | None = None,
    estimate: bool = False,
) -> InvoiceView:
    """The member view; InvoiceFlow's estimates say `rejected` for declined."""
    status = ESTIMATE_STATUS.get(invoice.status, invoice.status) if estimate else invoice.status
    view = _document(invoice, base_url, status, listed, detail) | {
        "company_id": invoice.company_id,
        "invoicer_id": invoice.invoicer_id,
        "invoice_recipient_id": invoice.invoice_recipient_id,
        "customer_id": invoice.invoice_recipient_id,
        "invoicer_payment_detail_id": invoice.invoicer_payment_detail_id,
        "subject": invoice.subject,
        "recurring": invoice.recurring,
        "next_run_date": invoice.next_run_date,
        "invoice_parent_id": invoice.invoice_parent_id,
        "auto_send": invoice.auto_send,
        "end_date": invoice.end_date,
        "max_runs": invoice.max_runs,
        "run_count": invoice.run_count,
        "description": invoice.description,
        "notes": invoice.notes,
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
        "available_actions": lifecycle.available_actions(
            invoice.type, invoice.status, invoice.amount_paid, invoice.balance_due
        ),
        "version": invoice.version,
        "buyer_reference": invoice.buyer_reference,
        "credited_invoice_id": invoice.credited_invoice_id,
        "reason": invoice.credit_reason,
        "purchase_order_reference": invoice.purchase_order_reference,
        "reminders_paused": invoice.reminders_paused,
    }
    if detail is not None:
        currency = view["currency"]
        view |= {
            "available_formats": available_formats(detail),
            "items": [_item(item, currency) for item in detail.items],
            "payments": [_payment(payment, currency) for payment in detail.payments],
            "history": [HistoryEntryView.model_validate(row) for row in detail.history],
            "members": invoice_members(detail.members),
            "invoicer": _party(InvoicerView, detail.invoicer),
            "recipient": _party(RecipientView, detail.recipient),
            "payment_detail": _party(PaymentDetailView, detail.payment_detail),
        }
    return InvoiceView.model_validate(view)


def invoice_members(rows: list[Row]) -> list[InvoiceMemberView]:
    return [InvoiceMemberView.model_validate(row) for row in rows]


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
    "credited": "Credited",
}
# A credit note is no bill: once issued it is "Issued", never "Unpaid".
PORTAL_CREDIT_NOTE_STATUS = {"approved": "Issued", "sent": "Issued", "cancelled": "Cancelled"}
PORTAL_QUOTE_STAGE = {
    "scheduled": "Delivered",
    "due": "Delivered",
    "sent": "Delivered",
    "approved": "Accepted",
    "converted": "Accepted",
    "declined": "Lost",
    "cancelled": "Dead",
}


def statuses_for_portal_word(invoice_type: str, word: str) -> list[str] | None:
    """The statuses a portal word stands for (`Unpaid`: scheduled, due, approved, sent), in
    any letter case; None when it is no portal word."""
    words = _portal_words(invoice_type)
    statuses = [status for status, shown in words.items() if shown.lower() == word.lower()]
    return statuses or None


def portal_status(invoice_type: str, status: str) -> str:
    return _portal_words(invoice_type).get(status, status.capitalize())


def _portal_words(invoice_type: str) -> dict[str, str]:
    if invoice_type == "quote":
        return PORTAL_QUOTE_STAGE
    return PORTAL_CREDIT_NOTE_STATUS if invoice_type == "credit_note" else PORTAL_INVOICE_STATUS


def _party(model: Any, row: Row | None) -> Any:
    return model.model_validate(row) if row is not None else None


def client_invoice_view(
    invoice: Invoice,
    base_url: str,
    *,
    listed: ListedInvoice | None = None,
    detail: InvoiceDetail | None = None,
    estimate: bool = False,
) -> PortalInvoiceView:
    """The client-portal view: only what the portal shows (nothing internal: notes to the
    company, history, who created it), in the portal's words; text it prints is never null."""
    status = portal_status(invoice.type, invoice.status)
    view = _document(invoice, base_url, status, listed, detail) | {
        "subject": invoice.subject or "",
        "notes": invoice.notes or "",
    }
    view["paymentmethod"] = view["paymentmethod"] or ""
    if "customernotes" in view:
        view["customernotes"] = view["customernotes"] or ""
    if detail is not None:
        currency = view["currency"]
        view |= {
            "items": [
                PortalItemView.model_validate(_item(item, currency))
                for item in detail.items
                if item["include"]
            ],
            "payments": [
                PortalPaymentView.model_validate(_payment(payment, currency))
                for payment in detail.payments
            ],
            "invoicer": _party(PortalInvoicerView, detail.invoicer),
            "recipient": _party(PortalRecipientView, detail.recipient),
            "payment_detail": _party(PortalPaymentDetailView, detail.payment_detail),
        }
    return PortalInvoiceView.model_validate(view)
