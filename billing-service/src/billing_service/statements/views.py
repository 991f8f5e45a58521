"""Answers of customer statements, and their mapping from the account."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from billing_service.platform.repositories.crud import Row
from shared.models import View

LineType = Literal["invoice", "credit_note", "payment", "refund", "credit_applied"]


class StatementParty(View):
    id: int
    name: str | None
    address: str | None
    email: str | None
    vat_id: str | None
    tax_number: str | None
    registration_number: str | None


class StatementAllocation(View):
    invoice_id: int
    invoice_number: str
    amount: Decimal


class StatementLineView(View):
    date: date
    type: LineType
    id: int = Field(
        description="The record's id: the invoice, credit note, payment (a "
        "payment across invoices: /payments/{id}), refund, or the payment credit made"
    )
    reference: str | None = Field(description="The document's number, or the payment's reference")
    description: str
    invoice_id: int | None = Field(
        description="The invoice concerned; null for a payment across invoices (see `allocations`)"
    )
    amount: Decimal = Field(description="The record's own amount")
    debit: Decimal = Field(description="What it added to the balance")
    credit: Decimal = Field(description="What it took off the balance (credit applied: 0)")
    balance: Decimal = Field(description="The running balance after it")
    allocations: list[StatementAllocation]


class OpenInvoiceView(View):
    invoice_id: int
    invoice_number: str
    issue_date: date
    due_date: date | None
    owed: Decimal
    days_past_due: int
    bucket: str


class AgingView(View):
    current: Decimal
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal


class StatementView(View):
    customer_id: int
    company_id: int
    currency: str
    period_from: date = Field(alias="from")
    period_to: date = Field(alias="to")
    issued_on: date = Field(description="Today, in the company's timezone")
    issuer: StatementParty = Field(description="The seller: the company's default invoicer")
    customer: StatementParty
    opening_balance: Decimal = Field(description="The balance at the start of `from`")
    lines: list[StatementLineView] = Field(description="In date order")
    total_debits: Decimal
    total_credits: Decimal
    closing_balance: Decimal = Field(
        description="At the end of `to`: `owed` less `credit_available` (negative: the "
        "customer is in credit)"
    )
    owed: Decimal = Field(description="What the invoices are owed at the end of `to`")
    credit_available: Decimal = Field(description="The customer's credit at the end of `to`")
    aging: AgingView = Field(description="`owed` by days past due at `to`")
    open_invoices: list[OpenInvoiceView]


class StatementSentView(View):
    id: int = Field(description="The send, as kept")
    customer_id: int
    currency: str
    period_from: date = Field(alias="from")
    period_to: date = Field(alias="to")
    closing_balance: Decimal
    addresses: list[str]


def party_view(row: Row, address: str | None) -> StatementParty:
    return StatementParty(
        id=row["id"],
        name=row.get("company_entity"),
        address=address,
        email=row.get("email"),
        vat_id=row.get("vat_id"),
        tax_number=row.get("company_tax_number"),
        registration_number=row.get("company_registration_number"),
    )
