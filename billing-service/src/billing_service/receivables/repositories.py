"""SQL of accounts receivable: credit notes' sums, refunds, customer credit and received
payments. Callers hold the row locks the comments name."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from billing_service.platform.repositories.crud import Db, Row

# Credit notes that count against their invoice's total: drafts included (a draft reserves
# what it credits), cancelled and deleted ones not.
CREDIT_NOTES_TOTAL = """
SELECT coalesce(sum(total), 0) FROM invoices
WHERE credited_invoice_id = $1 AND type = 'credit_note' AND deleted_at IS NULL
  AND status <> 'cancelled' AND id <> coalesce($2, 0)
"""
# What those credit notes credit per VAT group of lines (rate, category, exemption reason).
CREDITED_BY_GROUP = """
SELECT it.tax_percentage, it.vat_category, it.vat_exemption_reason, sum(it.net) AS net
FROM invoice_items it JOIN invoices cn ON cn.id = it.invoice_id
WHERE cn.credited_invoice_id = $1 AND cn.type = 'credit_note' AND cn.deleted_at IS NULL
  AND cn.status <> 'cancelled' AND it.include AND cn.id <> coalesce($2, 0)
GROUP BY it.tax_percentage, it.vat_category, it.vat_exemption_reason
"""
LIVE_RECIPIENT = """
SELECT id, company_id, currency FROM recipients
WHERE id = $1 AND company_id = ANY($2::bigint[]) AND archived_at IS NULL
"""
# The customer's credit row, made at zero on first need and locked (FOR UPDATE by the
# upsert) until commit: every change of a customer's credit is serialised here.
ADD_CREDIT = """
INSERT INTO customer_credits AS c (recipient_id, currency, company_id, available)
VALUES ($1, $2, $3, $4)
ON CONFLICT (recipient_id, currency)
DO UPDATE SET available = c.available + EXCLUDED.available, updated_at = now()
RETURNING available
"""
# A spend of credit that is not there changes no row (and the CHECK backs it up).
SPEND_CREDIT = """
UPDATE customer_credits SET available = available - $3, updated_at = now()
WHERE recipient_id = $1 AND currency = $2 AND available >= $3
RETURNING available
"""
CREDIT_ENTRY = """
INSERT INTO customer_credit_entries
    (recipient_id, currency, company_id, amount, source, invoice_id, received_payment_id, user_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
CREDITS = """
SELECT currency, available FROM customer_credits WHERE recipient_id = $1 AND available > 0
ORDER BY currency
"""
# What the customer owes: issued invoices awaiting payment (lifecycle.AWAITING and approved).
OUTSTANDING = """
SELECT currency, sum(total - amount_paid - amount_credited) AS outstanding, count(*) AS invoices
FROM invoices
WHERE invoice_recipient_id = $1 AND type = 'invoice' AND deleted_at IS NULL
  AND status IN ('approved', 'sent', 'due') AND total > amount_paid + amount_credited
GROUP BY currency ORDER BY currency
"""
PAYMENT_FOR_REFUND = """
SELECT id, amount, amount_refunded FROM payments WHERE id = $1 AND invoice_id = $2 FOR UPDATE
"""
REFUND_PAYMENT = "UPDATE payments SET amount_refunded = amount_refunded + $2 WHERE id = $1"
INSERT_REFUND = """
INSERT INTO refunds (invoice_id, company_id, payment_id, amount, reason, refunded_at, user_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""


@dataclass(frozen=True)
class ReceivedPayment:
    id: int
    company_id: int
    recipient_id: int
    amount: Decimal
    unallocated: Decimal
    currency: str
    paid_date: date
    payment_method: str | None
    reference: str | None
    user_id: int
    created_at: datetime


_PAYMENT_COLUMNS = ", ".join(field.name for field in fields(ReceivedPayment))
INSERT_RECEIVED = f"""
INSERT INTO received_payments
    (company_id, recipient_id, amount, unallocated, currency, paid_date, payment_method,
     reference, user_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING {_PAYMENT_COLUMNS}
"""
RECEIVED_ONE = f"""
SELECT {_PAYMENT_COLUMNS} FROM received_payments WHERE id = $1 AND company_id = ANY($2::bigint[])
"""
RECEIVED_PAGE = f"""
SELECT {_PAYMENT_COLUMNS} FROM received_payments
WHERE company_id = ANY($1::bigint[]) AND ($2::bigint IS NULL OR recipient_id = $2)
ORDER BY id DESC LIMIT $3 OFFSET $4
"""
RECEIVED_COUNT = """
SELECT count(*) FROM received_payments
WHERE company_id = ANY($1::bigint[]) AND ($2::bigint IS NULL OR recipient_id = $2)
"""
ALLOCATIONS = """
SELECT p.invoice_id, i.label, p.amount, p.id AS payment_id, p.received_payment_id FROM payments p
JOIN invoices i ON i.id = p.invoice_id
WHERE p.received_payment_id = ANY($1::bigint[]) ORDER BY p.id
"""


async def credit_notes_total(db: Db, invoice_id: int, leaving_out: int | None = None) -> Decimal:
    return Decimal(await db.fetchval(CREDIT_NOTES_TOTAL, invoice_id, leaving_out))


async def credited_by_group(db: Db, invoice_id: int, leaving_out: int | None = None) -> list[Row]:
    """Net per (rate, category, exemption reason) of the invoice's credit notes, issued and
    drafts, but the one `leaving_out` (being edited)."""
    return [dict(row) for row in await db.fetch(CREDITED_BY_GROUP, invoice_id, leaving_out)]


async def live_recipient(db: Db, recipient_id: int, company_ids: list[int]) -> Row | None:
    row = await db.fetchrow(LIVE_RECIPIENT, recipient_id, company_ids)
    return dict(row) if row is not None else None


@dataclass(frozen=True)
class CreditChange:
    """One change of a customer's credit in a currency, and what made it."""

    company_id: int
    recipient_id: int
    currency: str
    amount: Decimal  # signed: + credit given, - credit spent
    source: str  # credit_note, payment, applied
    user_id: int
    invoice_id: int | None = None
    received_payment_id: int | None = None


async def change_credit(conn: asyncpg.Connection, change: CreditChange) -> Decimal | None:
    """The credit available after the change; None when a spend finds too little."""
    key = (change.recipient_id, change.currency)
    if change.amount > 0:
        available = await conn.fetchval(ADD_CREDIT, *key, change.company_id, change.amount)
    else:
        available = await conn.fetchval(SPEND_CREDIT, *key, -change.amount)
        if available is None:
            return None
    await conn.execute(
        CREDIT_ENTRY,
        *key,
        change.company_id,
        change.amount,
        change.source,
        change.invoice_id,
        change.received_payment_id,
        change.user_id,
    )
    return Decimal(available)


async def credits(db: Db, recipient_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(CREDITS, recipient_id)]


async def outstanding(db: Db, recipient_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(OUTSTANDING, recipient_id)]


async def payment_for_refund(conn: asyncpg.Connection, payment_id: int, invoice_id: int) -> Row:
    row = await conn.fetchrow(PAYMENT_FOR_REFUND, payment_id, invoice_id)
    return dict(row) if row is not None else {}


async def refund_payment(conn: asyncpg.Connection, payment_id: int, amount: Decimal) -> None:
    await conn.execute(REFUND_PAYMENT, payment_id, amount)


async def insert_refund(conn: asyncpg.Connection, values: dict[str, Any]) -> None:
    await conn.execute(
        INSERT_REFUND,
        values["invoice_id"],
        values["company_id"],
        values["payment_id"],
        values["amount"],
        values["reason"],
        values["refunded_at"],
        values["user_id"],
    )


async def insert_received(conn: asyncpg.Connection, values: dict[str, Any]) -> ReceivedPayment:
    row = await conn.fetchrow(
        INSERT_RECEIVED,
        values["company_id"],
        values["recipient_id"],
        values["amount"],
        values["unallocated"],
        values["currency"],
        values["paid_date"],
        values["payment_method"],
        values["reference"],
        values["user_id"],
    )
    return ReceivedPayment(**dict(row))


async def received_one(db: Db, payment_id: int, company_ids: list[int]) -> ReceivedPayment | None:
    row = await db.fetchrow(RECEIVED_ONE, payment_id, company_ids)
    return ReceivedPayment(**dict(row)) if row is not None else None


async def received_page(
    db: Db, company_ids: list[int], recipient_id: int | None, limit: int, offset: int
) -> tuple[list[ReceivedPayment], int]:
    rows = await db.fetch(RECEIVED_PAGE, company_ids, recipient_id, limit, offset)
    total = await db.fetchval(RECEIVED_COUNT, company_ids, recipient_id)
    return [ReceivedPayment(**dict(row)) for row in rows], int(total)


async def allocations(db: Db, payment_ids: list[int]) -> list[Row]:
    return [dict(row) for row in await db.fetch(ALLOCATIONS, payment_ids)]
