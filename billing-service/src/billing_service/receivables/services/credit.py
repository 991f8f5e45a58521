"""A customer's credit, per currency: given (a credit note beyond the balance due, a payment
left unallocated), spent (applied to an invoice); each change announced."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from billing_service.events.services import EventLog
from billing_service.platform.money import round_money
from billing_service.receivables import repositories as repo
from billing_service.receivables.repositories import CreditChange
from shared.errors import ValidationFailed


async def change_credit(conn: asyncpg.Connection, events: EventLog, change: CreditChange) -> None:
    """The change written under the credit row's lock and announced as
    `customer.credit_changed`; a spend of more than is available is a 422 on `amount`."""
    available = await repo.change_credit(conn, change)
    if available is None:
        have = await _available(conn, change.recipient_id, change.currency)
        raise ValidationFailed.field(
            "amount", f"The amount must not be greater than the customer's credit ({have})."
        )
    currency = change.currency
    await events.record(
        conn,
        change.company_id,
        "customer.credit_changed",
        {
            "customer_id": change.recipient_id,
            "currency": currency,
            "change": str(round_money(change.amount, currency)),
            "credit_available": str(round_money(available, currency)),
            "source": change.source,
            "invoice_id": change.invoice_id,
            "payment_id": change.received_payment_id,
        },
        subject=f"customer:{change.recipient_id}",
    )


async def _available(conn: asyncpg.Connection, recipient_id: int, currency: str) -> Decimal:
    for row in await repo.credits(conn, recipient_id):
        if row["currency"].strip() == currency:
            return round_money(row["available"], currency)
    return round_money(Decimal(0), currency)
