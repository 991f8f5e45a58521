"""The answers' records: API field names, money and rates as decimal strings. Each model is
what the JSON holds (the OpenAPI document is generated from it); rows become views through
`of`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, PlainSerializer, computed_field

from billing_service.auth_client import User
from billing_service.money import format_money
from billing_service.repositories.companies import Company, Member
from billing_service.repositories.crud import Row
from shared.models import View

_CENT = Decimal("0.01")


def decimal_str(value: Decimal | None) -> str | None:
    """ "150.00" for 150, "0.125" keeps its digits; None stays None."""
    if value is None:
        return None
    if value == value.quantize(_CENT):
        return f"{value:.2f}"
    return format(value.normalize(), "f")


def _plain_number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _code(value: Any) -> Any:
    # A char(3) column: blank-padded, and empty means none.
    return (value or "").strip() or None


# Money and rates: at least two decimal places ("150.00", "0.125").
Amount = Annotated[Decimal, PlainSerializer(decimal_str, return_type=str)]
# Stock: as many decimal places as it has ("12", "0.5").
Quantity = Annotated[Decimal, PlainSerializer(_plain_number, return_type=str)]
CurrencyCode = Annotated[str | None, BeforeValidator(_code)]


class RowView(View):
    """A view of one database row, by the row's column names."""

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row)


class Record(RowView):
    """A company-owned record."""

    id: int
    company_id: int
    created_at: datetime
    updated_at: datetime


class OrganisationView(Record):
    name: str
    slug: str
    default: bool = Field(validation_alias="is_default")


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
                "balance_due": format_money(row["total"] - row["amount_paid"], currency),
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


# --- companies, members, teams, contacts ------------------------------------------------


class CompanyView(View):
    id: int
    name: str
    slug: str
    timezone: str
    currency: str | None  # the last default of its invoices' currency
    einvoice_format: str | None = Field(
        description="The e-invoice its `invoice-issued` e-mails attach; null: the plain PDF"
    )
    role: str  # the caller's
    is_owner: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, company: Company) -> Self:
        return cls.model_validate(asdict(company) | {"is_owner": company.role == "owner"})


class MemberView(View):
    user_id: int
    name: str | None  # None when auth-service no longer knows the user
    email: str | None
    role: str
    created_at: datetime

    @classmethod
    def of(cls, member: Member, user: User | None) -> Self:
        return cls(
            user_id=member.user_id,
            name=user.name if user else None,
            email=user.email if user else None,
            role=member.role,
            created_at=member.created_at,
        )


class TeamPlan(View):
    name: str


class TeamView(View):
    """InvoiceFlow's words: a team has admins and members, and says who owns it apart (the
    owner is an admin with `is_owner`); /companies/{id}/members keeps owner/admin/member."""

    id: int
    name: str
    slug: str
    is_current: bool
    is_owner: bool
    role: str
    plan: TeamPlan

    @classmethod
    def of(cls, company: Company, current: int | None) -> Self:
        return cls(
            id=company.id,
            name=company.name,
            slug=company.slug,
            is_current=company.id == current,
            is_owner=company.role == "owner",
            role="admin" if company.role == "owner" else company.role,
            plan=TeamPlan(name="Self-hosted"),
        )


class TeamRef(View):
    id: int
    name: str


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


# --- PDF links ----------------------------------------------------------------------------


class DownloadLink(View):
    invoice_id: int
    download_url: str
    expires_at: datetime


class DownloadAnswer(View):
    data: DownloadLink
    # InvoiceMee's clients read these at the top level.
    download_url: str
    expires_at: datetime


class RegeneratedPdf(View):
    id: int
    pdf_url: str | None  # None for a token that may not download the PDF (or on replay)
    expires_at: datetime | None
