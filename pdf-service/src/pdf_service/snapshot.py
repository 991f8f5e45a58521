"""The document snapshot billing sends, checked before it reaches the layout: every value the
layout draws is text of a bounded length, every group the shape the layout reads (ReportLab and
the layout fail on a list where they expect an object, on lone surrogates, ...).

Strict: no coercion, so a number where text belongs is refused rather than drawn as whatever
str() makes of it, and strict text refuses lone surrogates (JSON's \\ud800 escapes), which no
font or PDF string can hold. Keys the layout does not know are ignored (billing may send more
than the layout draws)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_ITEMS = 1000
MAX_BREAKDOWN = 50
MAX_STATEMENT_LINES = 2000
Line = Annotated[str, Field(max_length=1000)]
Paragraph = Annotated[str, Field(max_length=20_000)]
# billing keeps logos at most 600 x 600 px and about 300 kB (base64: a third more).
LogoData = Annotated[str, Field(max_length=600_000, pattern=r"^[A-Za-z0-9+/]+={0,2}$")]


class _Part(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class Party(_Part):
    name: Line | None = None
    contact: Line | None = None
    address: Paragraph | None = None
    email: Line | None = None
    phone: Line | None = None
    vat_id: Line | None = None
    tax_number: Line | None = None
    registration_number: Line | None = None


class VatEntry(_Part):
    category: Line | None = None
    rate: Line | None = None
    taxable: Line | None = None
    tax: Line | None = None
    note: Paragraph | None = None


class Logo(_Part):
    media_type: Literal["image/png", "image/jpeg"]
    data: LogoData


class Item(_Part):
    label: Paragraph | None = None
    quantity: Line | None = None
    unit: Line | None = None
    price: Line | None = None
    discount: Line | None = None
    tax: Line | None = None
    total: Line | None = None


class Totals(_Part):
    subtotal: Line | None = None
    tax: Line | None = None
    total: Line | None = None
    amount_paid: Line | None = None
    amount_credited: Line | None = None
    amount_refunded: Line | None = None
    balance_due: Line | None = None


class Credits(_Part):
    """The invoice a credit note corrects, and why."""

    invoice: Line | None = None
    invoice_date: Line | None = None
    reason: Paragraph | None = None


class PaymentDetails(_Part):
    bank_name: Line | None = None
    account_name: Line | None = None
    account_number: Line | None = None
    iban: Line | None = None
    swift: Line | None = None
    reference: Line | None = None


class StatementBalance(_Part):
    date: Line | None = None
    balance: Line | None = None


class StatementLine(_Part):
    date: Line | None = None
    type: Line | None = None
    reference: Line | None = None
    description: Paragraph | None = None
    debit: Line | None = None
    credit: Line | None = None
    balance: Line | None = None


class AgeAmount(_Part):
    label: Line | None = None
    amount: Line | None = None


class Statement(_Part):
    """A customer's statement of account (billing's statements), drawn instead of the lines
    and totals of an invoice."""

    currency: Line | None = None
    opening: StatementBalance | None = None
    lines: Annotated[list[StatementLine], Field(max_length=MAX_STATEMENT_LINES)]
    closing: StatementBalance | None = None
    aging: Annotated[list[AgeAmount], Field(max_length=10)] | None = None
    owed: Line | None = None
    credit_available: Line | None = None
    balance_label: Line | None = None


class Snapshot(_Part):
    label: Annotated[Line, Field(min_length=1)]
    title: Line | None = None
    type: Line | None = None
    status: Line | None = None
    currency: Line | None = None
    issue_date: Line | None = None
    due_date: Line | None = None
    valid_until: Line | None = None
    period: Line | None = None
    payment_terms: Line | None = None
    subject: Line | None = None
    buyer_reference: Line | None = None
    purchase_order_reference: Line | None = None
    invoicer: Party | None = None
    recipient: Party | None = None
    recipient_title: Line | None = None  # over the recipient's name; default "BILL TO"
    items: Annotated[list[Item], Field(max_length=MAX_ITEMS)]
    vat_breakdown: Annotated[list[VatEntry], Field(max_length=MAX_BREAKDOWN)] | None = None
    totals: Totals
    total_label: Line | None = None
    credits: Credits | None = None
    payment_details: PaymentDetails | None = None
    notes: Paragraph | None = None
    logo: Logo | None = None
    public_url: Line | None = None
    statement: Statement | None = None
