"""Payments received from a customer: one transfer allocated across several of their
invoices in its currency, the rest kept as their credit; and a customer's balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg

from billing_service.companies.services.scoped import named
from billing_service.invoices import lifecycle
from billing_service.invoices.repositories import invoices as invoice_repo
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services.actions import Payment, paid_verbs, settle
from billing_service.invoices.services.records import InvoiceRecords
from billing_service.platform.money import quantum, round_money
from billing_service.platform.permissions import require
from billing_service.platform.scope import Scope
from billing_service.receivables import repositories as repo
from billing_service.receivables.repositories import CreditChange, ReceivedPayment
from billing_service.receivables.services.credit import change_credit
from billing_service.receivables.views import (
    CustomerBalanceView,
    ReceivedPaymentView,
    customer_balance,
    received_payment_view,
)
from shared.errors import NotFound, ValidationFailed
from shared.pagination import PageParams


@dataclass(frozen=True)
class Allocation:
    invoice_id: int
    amount: Decimal


@dataclass(frozen=True)
class PaymentRequest:
    customer_id: int
    amount: Decimal
    currency: str
    paid_date: date | None
    payment_method: str | None
    reference: str | None
    allocations: list[Allocation]


class ReceivedPayments:
    def __init__(self, records: InvoiceRecords) -> None:
        self.records = records

    async def create(self, scope: Scope, request: PaymentRequest) -> ReceivedPaymentView:
        """Each invoice is locked in id order (two payments never deadlock) and takes no more
        than its balance due; the customer's credit row is locked last."""
        scope.require_member()
        _check_request(request)
        async with self.records.pool.acquire() as conn, conn.transaction():
            company = await named(conn, scope, "recipients", request.customer_id, "customer_id")
            require(scope, company, "payments.record")
            invoices = await _locked_invoices(conn, company, request)
            day = request.paid_date or await self.records.today(conn, company)
            unallocated = request.amount - sum((a.amount for a in request.allocations), Decimal(0))
            received = await repo.insert_received(
                conn,
                {
                    "company_id": company,
                    "recipient_id": request.customer_id,
                    "amount": request.amount,
                    "unallocated": unallocated,
                    "currency": request.currency,
                    "paid_date": day,
                    "payment_method": request.payment_method,
                    "reference": request.reference,
                    "user_id": scope.user_id,
                },
            )
            await self._allocate(conn, scope, received, invoices, request)
            if unallocated > 0:
                change = CreditChange(
                    company,
                    request.customer_id,
                    request.currency,
                    unallocated,
                    "payment",
                    scope.user_id,
                    received_payment_id=received.id,
                )
                await change_credit(conn, self.records.events, change)
            view = received_payment_view(received, await repo.allocations(conn, [received.id]))
            await self.records.events.record(
                conn, company, "payment.received", view, subject=f"payment:{received.id}"
            )
            return view

    async def _allocate(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        received: ReceivedPayment,
        invoices: dict[int, Invoice],
        request: PaymentRequest,
    ) -> None:
        for allocation in request.allocations:
            payment = Payment(
                allocation.amount, received.paid_date, request.reference, request.payment_method
            )
            invoice = invoices[allocation.invoice_id]
            paid = await settle(self.records, conn, scope.user_id, invoice, payment, received.id)
            await self.records.announce(conn, paid, *paid_verbs(paid))

    async def one(self, scope: Scope, payment_id: int) -> ReceivedPaymentView:
        scope.require_member()
        async with self.records.pool.acquire() as conn:
            payment = await repo.received_one(conn, payment_id, scope.company_ids)
            if payment is None:
                raise NotFound("Payment not found.")
            return received_payment_view(payment, await repo.allocations(conn, [payment.id]))

    async def page(
        self, scope: Scope, customer_id: int | None, params: PageParams
    ) -> tuple[list[ReceivedPaymentView], int]:
        scope.require_member()
        async with self.records.pool.acquire() as conn:
            payments, total = await repo.received_page(
                conn, scope.company_ids, customer_id, params.per_page, params.offset
            )
            allocations = await repo.allocations(conn, [payment.id for payment in payments])
        return [
            received_payment_view(
                payment, [row for row in allocations if row["received_payment_id"] == payment.id]
            )
            for payment in payments
        ], total

    async def balance(self, scope: Scope, customer_id: int) -> CustomerBalanceView:
        """What the customer owes and the credit they have, per currency."""
        scope.require_member()
        async with self.records.pool.acquire() as conn:
            if await repo.live_recipient(conn, customer_id, scope.company_ids) is None:
                raise NotFound("Customer not found.")
            owed = await repo.outstanding(conn, customer_id)
            credits = await repo.credits(conn, customer_id)
        return customer_balance(customer_id, owed, credits)


def _check_request(request: PaymentRequest) -> None:
    """Amounts in the currency's minor units, each invoice once, no more allocated than
    received."""
    currency = request.currency
    amounts = [("amount", request.amount)] + [
        (f"allocations.{i}.amount", a.amount) for i, a in enumerate(request.allocations)
    ]
    for field, amount in amounts:
        if amount != round_money(amount, currency):
            places = quantum(currency).as_tuple().exponent
            raise ValidationFailed.field(
                field, f"The amount must have at most {-int(places)} decimal places."
            )
    seen: set[int] = set()
    for position, allocation in enumerate(request.allocations):
        if allocation.invoice_id in seen:
            raise ValidationFailed.field(
                f"allocations.{position}.invoice_id", "The invoice is allocated more than once."
            )
        seen.add(allocation.invoice_id)
    if sum((a.amount for a in request.allocations), Decimal(0)) > request.amount:
        raise ValidationFailed.field(
            "allocations", "The allocations must not add up to more than the amount."
        )


async def _locked_invoices(
    conn: asyncpg.Connection, company: int, request: PaymentRequest
) -> dict[int, Invoice]:
    """The allocated invoices, locked in id order, each the customer's, in the currency,
    awaiting payment and with at least the amount due."""
    where = invoice_repo.member_conditions([company])
    position = {a.invoice_id: i for i, a in enumerate(request.allocations)}
    found: dict[int, Invoice] = {}
    for invoice_id in sorted(position):
        field = f"allocations.{position[invoice_id]}"
        invoice = await invoice_repo.one(conn, invoice_id, where, lock=True)
        if (
            invoice is None
            or invoice.type != "invoice"
            or invoice.invoice_recipient_id != request.customer_id
        ):
            raise ValidationFailed.field(
                f"{field}.invoice_id", "The invoice is not one of this customer's."
            )
        if invoice.currency.strip() != request.currency:
            raise ValidationFailed.field(
                f"{field}.invoice_id", f"The invoice is not in {request.currency}."
            )
        if not lifecycle.allowed("pay", "invoice", invoice.status, balance_due=invoice.balance_due):
            raise ValidationFailed.field(
                f"{field}.invoice_id", f"The invoice is {invoice.status}: it takes no payment."
            )
        allocated = request.allocations[position[invoice_id]].amount
        if allocated > invoice.balance_due:
            due = invoice.balance_due.quantize(quantum(request.currency))
            raise ValidationFailed.field(
                f"{field}.amount", f"The amount must not be greater than the balance due ({due})."
            )
        found[invoice_id] = invoice
    return found
