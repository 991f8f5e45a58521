"""SQL of customer statements: the customer and the parties the statement names, every record
that moved the customer's account in one currency up to a day, and the trace of a send."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import asyncpg

from billing_service.mail.repositories import Tally, tally
from billing_service.platform.repositories.crud import Db, Row

# Any customer of the caller's companies, archived ones too: a past customer's account can
# still be stated.
CUSTOMER = """
SELECT r.*, c.currency AS company_currency, c.timezone AS company_timezone
FROM recipients r JOIN companies c ON c.id = r.company_id
WHERE r.id = $1 AND r.company_id = ANY($2::bigint[])
"""
# The seller the statement is from: the company's default invoicer, else the one of the
# customer's latest invoice, else any of the company's.
ISSUER = """
SELECT v.* FROM invoicers v
WHERE v.company_id = $1
ORDER BY v.is_default DESC,
         (SELECT max(i.id) FROM invoices i
          WHERE i.invoicer_id = v.id AND i.invoice_recipient_id = $2) DESC NULLS LAST,
         v.id
LIMIT 1
"""
# Issued invoices and credit notes (not drafts, scheduled, cancelled or deleted). A credit
# note's `to_credit` is what it moved beyond its invoice's balance into the customer's credit.
DOCUMENTS = """
SELECT i.id, i.type, i.label, i.scheduled_date AS day, i.due_date, i.total,
       i.credited_invoice_id, ci.label AS credited_label,
       coalesce((SELECT sum(e.amount) FROM customer_credit_entries e
                 WHERE e.source = 'credit_note' AND e.invoice_id = i.id), 0) AS to_credit
FROM invoices i LEFT JOIN invoices ci ON ci.id = i.credited_invoice_id
WHERE i.invoice_recipient_id = $1 AND i.company_id = $2 AND i.currency = $3
  AND i.type IN ('invoice', 'credit_note') AND i.deleted_at IS NULL
  AND i.status NOT IN ('draft', 'scheduled', 'cancelled') AND i.scheduled_date <= $4
ORDER BY i.scheduled_date, i.id
"""
# Payments on the customer's invoices. One that settled the invoice from the customer's credit
# is told by its credit entry, written in the same transaction (same now(), same invoice,
# the amount negated), not by the free-text payment method.
PAYMENTS = """
SELECT p.id, p.invoice_id, i.label, p.amount, p.paid_date AS day, p.payment_method,
       p.reference, p.received_payment_id,
       EXISTS (SELECT 1 FROM customer_credit_entries e
               WHERE e.source = 'applied' AND e.invoice_id = p.invoice_id
                 AND e.created_at = p.created_at AND e.amount = -p.amount) AS from_credit
FROM payments p JOIN invoices i ON i.id = p.invoice_id
WHERE i.invoice_recipient_id = $1 AND i.company_id = $2 AND i.currency = $3
  AND i.type = 'invoice' AND p.paid_date <= $4
ORDER BY p.paid_date, p.id
"""
RECEIVED = """
SELECT id, amount, unallocated, paid_date AS day, payment_method, reference
FROM received_payments
WHERE recipient_id = $1 AND company_id = $2 AND currency = $3 AND paid_date <= $4
ORDER BY paid_date, id
"""
REFUNDS = """
SELECT r.id, r.invoice_id, i.label, r.amount, r.refunded_at AS day, r.reason
FROM refunds r JOIN invoices i ON i.id = r.invoice_id
WHERE i.invoice_recipient_id = $1 AND i.company_id = $2 AND i.currency = $3
  AND r.refunded_at <= $4
ORDER BY r.refunded_at, r.id
"""
# A send goes to the customer's address and its client-portal contacts' (kept with them).
CONTACT_EMAILS = "SELECT email FROM recipient_contacts WHERE recipient_id = $1 ORDER BY user_id"
QUEUE_STATEMENT = """
INSERT INTO email_outbox
    (company_id, template, to_email, custom_message, user_id, created_at, next_attempt_at,
     send_id, context)
SELECT $1, $2, address, $3, $4, $5, $5, $6, $7::jsonb
FROM unnest($8::text[]) WITH ORDINALITY AS addressed (address, position)
ORDER BY position
"""
# The customer's row lock: concurrent sends of one customer's statement are counted one after
# the other (the window below), as an invoice's sends are under the invoice's lock.
LOCK_CUSTOMER = "SELECT 1 FROM recipients WHERE id = $1 FOR UPDATE"
SENT_SINCE = """
SELECT count(*) AS count, min(created_at) AS oldest FROM statement_sends
WHERE recipient_id = $1 AND created_at > $2
"""
INSERT_SEND = """
INSERT INTO statement_sends
    (company_id, recipient_id, currency, period_from, period_to, closing_balance, document_id,
     send_id, addresses, user_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id
"""


@dataclass(frozen=True)
class AccountRecords:
    """Everything that moved a customer's account in one currency up to a day."""

    documents: list[Row]
    payments: list[Row]
    received: list[Row]
    refunds: list[Row]


@dataclass(frozen=True)
class SentStatement:
    company_id: int
    recipient_id: int
    currency: str
    period_from: date
    period_to: date
    closing_balance: Decimal
    document_id: str
    user_id: int


async def customer(db: Db, customer_id: int, company_ids: list[int]) -> Row | None:
    row = await db.fetchrow(CUSTOMER, customer_id, company_ids)
    return dict(row) if row is not None else None


async def issuer(db: Db, company_id: int, customer_id: int) -> Row | None:
    row = await db.fetchrow(ISSUER, company_id, customer_id)
    return dict(row) if row is not None else None


async def account_records(
    db: Db, customer_id: int, company_id: int, currency: str, until: date
) -> AccountRecords:
    keys = (customer_id, company_id, currency, until)

    async def rows(sql: str) -> list[Row]:
        return [dict(row) for row in await db.fetch(sql, *keys)]

    return AccountRecords(
        await rows(DOCUMENTS), await rows(PAYMENTS), await rows(RECEIVED), await rows(REFUNDS)
    )


async def contact_emails(db: Db, customer_id: int) -> list[str]:
    return [str(row["email"]) for row in await db.fetch(CONTACT_EMAILS, customer_id)]


async def lock_customer(conn: asyncpg.Connection, customer_id: int) -> None:
    await conn.execute(LOCK_CUSTOMER, customer_id)


async def sent_since(conn: asyncpg.Connection, customer_id: int, since: datetime) -> Tally:
    """The customer's statement sends (each one, whatever its currency) after `since`."""
    return await tally(conn, SENT_SINCE, customer_id, since)


async def queue_statement(
    conn: asyncpg.Connection,
    sent: SentStatement,
    addresses: list[str],
    custom_message: str | None,
    context_json: str,
    now: datetime,
) -> int:
    """The e-mails (one per address, one send) and the trace of the send; the trace's id."""
    send_id = uuid.uuid4()
    await conn.execute(
        QUEUE_STATEMENT,
        sent.company_id,
        "customer-statement",
        custom_message,
        sent.user_id,
        now,
        send_id,
        context_json,
        addresses,
    )
    return int(
        await conn.fetchval(
            INSERT_SEND,
            sent.company_id,
            sent.recipient_id,
            sent.currency,
            sent.period_from,
            sent.period_to,
            sent.closing_balance,
            sent.document_id,
            send_id,
            len(addresses),
            sent.user_id,
            now,
        )
    )
