"""Request models of accounts receivable."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from billing_service.invoices.schemas import ItemIn
from billing_service.platform.fields import Currency, Id, LongText, Text
from shared.fields import IsoDate, SingleLine
from shared.models import Body
from shared.pagination import PageParams

Amount = Annotated[Decimal, Field(ge=Decimal("0.01"), le=Decimal("1e13"))]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
Method = Annotated[SingleLine, Field(min_length=1, max_length=64)]
MAX_ALLOCATIONS = 100


class CreditNoteBody(Body):
    reason: Reason = Field(description="Why the invoice is corrected (printed on the note)")
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=500)] | None = Field(
        default=None,
        description="The lines to credit; none: everything of the invoice still creditable",
    )
    scheduled_date: IsoDate | None = Field(default=None, description="Issue date; default today")
    notes: LongText | None = None


class RefundBody(Body):
    amount: Amount
    reason: Reason
    payment_id: Id | None = Field(default=None, description="The payment the money came from")
    refunded_at: IsoDate | None = Field(default=None, description="Default: today")


class ApplyCreditBody(Body):
    amount: Amount


class AllocationIn(Body):
    invoice_id: Id
    amount: Amount


class PaymentBody(Body):
    customer_id: Id
    amount: Amount
    currency: Currency
    paid_date: IsoDate | None = Field(default=None, description="Default: today")
    payment_method: Method | None = None
    reference: Text | None = None
    allocations: Annotated[list[AllocationIn], Field(max_length=MAX_ALLOCATIONS)] = Field(
        default_factory=list,
        description="Invoices of the customer in the payment's currency; what is left over "
        "becomes the customer's credit",
    )


class PaymentFilters(PageParams):
    customer_id: Id | None = None
