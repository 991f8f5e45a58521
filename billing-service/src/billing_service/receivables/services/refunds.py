"""Money going back and credit coming in on one invoice: refunds, and the customer's credit
applied to it. Both hold the invoice's row lock, so a refund racing a payment or two spends
of one credit are serialised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from billing_service.invoices.repositories import invoices as invoice_repo
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services.actions import Payment, check_amount, paid_verbs, settle
from billing_service.invoices.services.records import InvoiceRecords
from billing_service.platform.money import quantum
from billing_service.platform.scope import Scope
from billing_service.receivables import repositories as repo
from billing_service.receivables.repositories import CreditChange
from billing_service.receivables.services.credit import change_credit
from shared.errors import Conflict, ValidationFailed

REFUNDABLE = frozenset({"approved", "sent", "due", "paid"})


@dataclass(frozen=True)
class RefundRequest:
    amount: Decimal
    reason: str
    payment_id: int | None
    refunded_at: date | None


class Refunds:
    def __init__(self, records: InvoiceRecords) -> None:
        self.records = records

    async def refund(self, scope: Scope, invoice_id: int, request: RefundRequest) -> InvoiceDetail:
        """Never more than the invoice keeps (nor than the payment named has left): a paid
        invoice awaits payment again."""

        async def refund(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            if invoice.type != "invoice" or invoice.status not in REFUNDABLE:
                raise Conflict(f"Cannot refund a {invoice.type} that is {invoice.status}.")
            if invoice.amount_paid == 0:
                raise Conflict("Nothing has been paid on this invoice.")
            check_amount(invoice, request.amount, limit=invoice.amount_paid)
            if request.payment_id is not None:
                await _refund_payment(conn, invoice, request)
            day = request.refunded_at or await self.records.today(conn, invoice.company_id)
            await repo.insert_refund(
                conn,
                {
                    "invoice_id": invoice.id,
                    "company_id": invoice.company_id,
                    "payment_id": request.payment_id,
                    "amount": request.amount,
                    "reason": request.reason,
                    "refunded_at": day,
                    "user_id": scope.user_id,
                },
            )
            values: dict[str, Any] = {
                "amount_paid": invoice.amount_paid - request.amount,
                "amount_refunded": invoice.amount_refunded + request.amount,
            }
            if invoice.status == "paid":  # partly paid again: awaiting the rest
                values["paid_at"] = None
                reopened = "sent" if invoice.sent_at is not None else "approved"
                return await self.records.move(conn, scope.user_id, invoice, reopened, values)
            await invoice_repo.add_history(
                conn, invoice.id, scope.user_id, "refund", invoice.status, invoice.status
            )
            return await invoice_repo.update(conn, invoice.id, values)

        return await self.records.locked(scope, invoice_id, None, "pay", refund, verb="refunded")

    async def apply_credit(self, scope: Scope, invoice_id: int, amount: Decimal) -> InvoiceDetail:
        """The customer's credit in the invoice's currency spent on it, as a payment
        (`payment_method` credit). Invoice locked first, then the credit row."""

        async def apply(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            if invoice.type != "invoice" or invoice.invoice_recipient_id is None:
                raise Conflict("Only an invoice with a customer can be settled from credit.")
            paid = await settle(
                self.records, conn, scope.user_id, invoice, Payment(amount, method="credit")
            )
            change = CreditChange(
                invoice.company_id,
                invoice.invoice_recipient_id,
                invoice.currency.strip(),
                -amount,
                "applied",
                scope.user_id,
                invoice_id=invoice.id,
            )
            await change_credit(conn, self.records.events, change)
            return paid

        return await self.records.locked(scope, invoice_id, None, "pay", apply, verb=paid_verbs)


async def _refund_payment(
    conn: asyncpg.Connection, invoice: Invoice, request: RefundRequest
) -> None:
    payment = await repo.payment_for_refund(conn, request.payment_id or 0, invoice.id)
    if not payment:
        raise ValidationFailed.field("payment_id", "The payment is not one of this invoice's.")
    left = payment["amount"] - payment["amount_refunded"]
    if request.amount > left:
        shown = left.quantize(quantum(invoice.currency.strip()))
        raise ValidationFailed.field(
            "amount", f"The amount must not be greater than the payment has left ({shown})."
        )
    await repo.refund_payment(conn, payment["id"], request.amount)
