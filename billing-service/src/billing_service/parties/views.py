"""The answers about the parties and things an invoice names (organisations, invoicers,
payment details, recipients and their client-portal contacts, products): API field names,
money and rates as decimal strings. Each model is what the JSON holds (the OpenAPI document
is generated from it); rows become views through `of`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

from pydantic import Field, computed_field

from billing_service.platform.money import format_money
from billing_service.platform.repositories.crud import Row
from billing_service.platform.views import (
    Amount,
    CurrencyCode,
    Quantity,
    Record,
    RowView,
)
from shared.models import View


class OrganisationView(Record):
    name: str
    slug: str
    default: bool = Field(validation_alias="is_default")


class LogoView(View):
    """The logo as kept and printed (re-encoded on upload, at most 600 x 600 px)."""

    invoicer_id: int
    media_type: str
    width: int
    height: int
    size: int = Field(description="Bytes of the image as kept")
    updated_at: datetime


class PaymentDetailView(Record):
    invoicer_id: int
    label: str | None
    bank_name: str | None
    account_name: str | None
    account_number: str | None
    iban: str | None
    swift: str | None
    default: bool = Field(validation_alias="is_default")


class PartyView(Record):
    """What invoicers and recipients, the two parties of an invoice, both show."""

    company_entity: str
    description: str | None
    company_tax_number: str | None
    company_registration_number: str | None
    company_address: str | None
    currency: CurrencyCode
    tax_rate: Amount | None
    default: bool = Field(validation_alias="is_default")
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postcode: str | None
    country_code: str | None = Field(description="ISO 3166-1 alpha-2")
    vat_id: str | None = Field(description="The VAT identifier, with its country prefix")
    peppol_id: str | None = Field(description="The electronic address, `<scheme>:<identifier>`")


class InvoicerView(PartyView):
    contact_name: str | None
    email: str | None
    phone: str | None


class InvoicerDetailView(InvoicerView):
    """One invoicer, with its payment details."""

    payment_details: list[PaymentDetailView]


class RecipientView(PartyView):
    """A recipient as an invoice names it."""

    organisation_id: int
    contact_name: str | None
    email: str | None
    phone: str | None
    default_hour_rate: Amount | None
    buyer_reference: str | None = Field(description="The default of its invoices'")
    reminders_paused: bool = Field(description="No automatic reminder of its invoices while set")


class InvoicedRecipientView(RecipientView):
    """A recipient as /recipients answers it: with what it has been invoiced."""

    total_invoiced: Amount


class CustomerView(InvoicedRecipientView):
    """InvoiceFlow's (and InvoisX's) names for a recipient: company_name is company_entity."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def company_name(self) -> str:
        return self.company_entity


class RecentInvoice(RowView):
    id: int
    invoice_number: str = Field(validation_alias="label")
    type: str
    status: str
    currency: str
    total: str
    balance_due: str
    issue_date: date = Field(validation_alias="scheduled_date")
    due_date: date | None

    @classmethod
    def of(cls, row: Row) -> Self:
        currency = row["currency"]
        return cls.model_validate(
            row
            | {
                "total": format_money(row["total"], currency),
                "balance_due": format_money(
                    row["total"] - row["amount_paid"] - row["amount_credited"], currency
                ),
            }
        )


class RecentPayment(RowView):
    id: int
    invoice_id: int
    invoice_number: str = Field(validation_alias="label")
    amount: str
    paid_date: date
    reference: str | None
    payment_method: str | None

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row | {"amount": format_money(row["amount"], row["currency"])})


class CustomerDetailView(CustomerView):
    """One customer, with their latest invoices and payments (as far as the token reads)."""

    recent_invoices: list[RecentInvoice]
    recent_payments: list[RecentPayment]

    @classmethod
    def with_activity(cls, row: Row, invoices: list[Row], payments: list[Row]) -> Self:
        return cls.model_validate(
            row
            | {
                "recent_invoices": [RecentInvoice.of(invoice) for invoice in invoices],
                "recent_payments": [RecentPayment.of(payment) for payment in payments],
            }
        )


class ProductView(Record):
    type: str
    name: str
    description: str | None
    sku: str | None
    unit: str
    active: bool
    price: Amount
    tax_rate: Amount | None
    stock_quantity: Quantity | None  # services have none


class StockMovementView(View):
    id: int
    adjustment: Quantity
    quantity_after: Quantity
    reason: str | None
    user_id: int
    created_at: datetime


class ProductDetailView(ProductView):
    """One product, with its latest stock movements."""

    stock_movements: list[StockMovementView]


class ContactView(RowView):
    """A client-portal login of a recipient."""

    user_id: int
    recipient_id: int
    email: str
    name: str
    created_at: datetime


class InvitedContactView(ContactView):
    # Generated by the service, shown in this answer only (null in an idempotent replay).
    password: str | None
