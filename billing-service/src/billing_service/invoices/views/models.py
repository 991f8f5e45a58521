"""Answers of the invoices table's routes: the member view, the client-portal view (INNOVATECH),
with the seeds' other names of fields alongside the API's.

Money is a decimal string in the currency's minor units ("1725.00", "1725" for JPY). A field
that only some records carry (a quote's INNOVATECH fields, a detail's lines and parties) is
left out of the others' JSON, not null (`MISSING`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import MISSING, Field

from billing_service.einvoice.fields import EinvoiceFormat
from billing_service.parties.views import InvoicerView, PaymentDetailView, RecipientView
from shared.models import View


class PortalItemView(View):
    """A line of the document as its recipient sees it (included lines only)."""

    label: str
    description: str = Field(description="The line's text (its label)")
    unit: str
    quantity: Decimal
    price: Decimal
    unit_price: Decimal = Field(description="Another name of `price`")
    tax_percentage: Decimal
    discount_percentage: bool
    discount: Decimal
    price_includes_tax: bool
    price_includes_discount: bool
    net: Decimal
    tax: Decimal
    total: Decimal
    vat_category: str = Field(
        description="As named on write, else S when the line bears tax and Z when not"
    )
    vat_exemption_reason: str | None
    unit_code: str = Field(
        description="UN/ECE Recommendation 20: as named on write, else mapped from `unit`"
    )


class InvoiceItemView(PortalItemView):
    id: int
    include: bool = Field(description="False: shown to the company only, not in the totals")
    product_id: int | None


class PortalPaymentView(View):
    amount: Decimal
    paid_date: date
    reference: str | None
    payment_method: str | None


class PaymentView(PortalPaymentView):
    id: int
    created_at: datetime
    received_payment_id: int | None = Field(
        description="The received payment (/payments) this is an allocation of"
    )
    amount_refunded: Decimal


class HistoryEntryView(View):
    id: int
    user_id: int | None = Field(description="None: the scheduler")
    event: str
    from_status: str | None
    to_status: str | None
    created_at: datetime


class InvoiceMemberView(View):
    """Who of the company may view, receive and act on the record."""

    member_id: int
    view_invoice: bool
    receive_invoice: bool
    action_invoice: bool


class CustomerRef(View):
    """The recipient in short (InvoiceFlow's `customer`)."""

    id: int
    name: str | None
    email: str | None


class PortalInvoicerView(View):
    company_entity: str | None
    company_address: str | None
    company_tax_number: str | None
    company_registration_number: str | None


class PortalRecipientView(PortalInvoicerView):
    contact_name: str | None
    email: str | None
    phone: str | None


class PortalPaymentDetailView(View):
    label: str | None
    bank_name: str | None
    account_name: str | None
    account_number: str | None
    iban: str | None
    swift: str | None


class _Document(View):
    """What member and client-portal views share."""

    id: int
    type: str
    status: str = Field(
        description="On /estimates `declined` is `rejected`; in the client "
        "portal the portal's words (`Unpaid`, `Paid`, `Cancelled`; a quote's stage)"
    )
    label: str
    invoice_number: str = Field(description="Another name of `label`")
    currency: str
    scheduled_date: date
    issue_date: date = Field(description="Another name of `scheduled_date`")
    due_date: date | None
    valid_until: date | None
    period: str | None
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    amount_paid: Decimal = Field(
        description="Money the invoice keeps: payments less refunds, less what a credit note "
        "moved to the customer's credit"
    )
    amount_credited: Decimal = Field(description="The totals of its issued credit notes")
    amount_refunded: Decimal
    balance_due: Decimal = Field(description="total - amount_paid - amount_credited")
    public_url: str
    approved_at: datetime | None
    sent_at: datetime | None
    paid_at: datetime | None
    cancelled_at: datetime | None
    customer: CustomerRef | None
    # INNOVATECH's client-portal names
    invoicenum: str
    issued_on: date = Field(alias="date")
    duedate: date | None
    datepaid: date | None = Field(description="The day the settling payment was made")
    # quotes only
    stage: str | MISSING = MISSING
    datecreated: date | MISSING = MISSING
    validuntil: date | MISSING | None = MISSING
    tax1: Decimal | MISSING = MISSING
    tax2: Decimal | MISSING = MISSING


class InvoiceView(_Document):
    """A record of the invoices table as the company's members see it; a list row lacks the
    detail's lines, payments, history, members and parties."""

    company_id: int
    invoicer_id: int | None
    invoice_recipient_id: int | None
    customer_id: int | None = Field(description="Another name of `invoice_recipient_id`")
    invoicer_payment_detail_id: int | None
    subject: str | None
    recurring: str | None
    next_run_date: date | None
    invoice_parent_id: int | None
    auto_send: bool
    end_date: date | None
    max_runs: int | None
    run_count: int
    description: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime
    available_actions: list[str] = Field(description="The actions the lifecycle allows now")
    buyer_reference: str | None = Field(description="XRechnung's Leitweg-ID; none: the recipient's")
    credited_invoice_id: int | None = Field(description="A credit note's invoice")
    reason: str | None = Field(description="A credit note's reason")
    purchase_order_reference: str | None
    reminders_paused: bool = Field(description="No automatic reminder while set")
    version: int = Field(description="Bumped by every change (the ETag)")
    paymentmethod: str | None
    customernotes: str | MISSING | None = MISSING  # quotes only
    items: list[InvoiceItemView] | MISSING = MISSING
    payments: list[PaymentView] | MISSING = MISSING
    history: list[HistoryEntryView] | MISSING = MISSING
    members: list[InvoiceMemberView] | MISSING = MISSING
    invoicer: InvoicerView | MISSING | None = MISSING
    recipient: RecipientView | MISSING | None = MISSING
    payment_detail: PaymentDetailView | MISSING | None = MISSING
    available_formats: list[EinvoiceFormat] | MISSING = Field(
        default=MISSING,
        description="The e-invoice formats the invoice can be produced in now "
        "(GET /invoices/{id}/einvoice); a detail only",
    )


class PortalInvoiceView(_Document):
    """An invoice or quote as its recipient's client-portal user sees it: nothing internal;
    text the portal prints is "" rather than null."""

    subject: str
    notes: str
    paymentmethod: str
    customernotes: str | MISSING = MISSING  # quotes only
    items: list[PortalItemView] | MISSING = MISSING
    payments: list[PortalPaymentView] | MISSING = MISSING
    invoicer: PortalInvoicerView | MISSING | None = MISSING
    recipient: PortalRecipientView | MISSING | None = MISSING
    payment_detail: PortalPaymentDetailView | MISSING | None = MISSING


class ConvertedEstimate(View):
    invoice_id: int
    invoice_number: str


class Message(View):
    message: str
