"""SQL of who an invoice reaches: its members (who of the company may view, receive and act
on it) and the e-mails a send queues in the outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from billing_service.invoices.repositories.invoices import Invoice
from billing_service.platform.repositories.crud import Db, Row

MEMBERS = """
SELECT member_id, view_invoice, receive_invoice, action_invoice
FROM invoice_members WHERE invoice_id = $1 ORDER BY member_id
"""
DELETE_MEMBERS = "DELETE FROM invoice_members WHERE invoice_id = $1"
INSERT_MEMBER = """
INSERT INTO invoice_members (invoice_id, member_id, view_invoice, receive_invoice, action_invoice)
VALUES ($1, $2, $3, $4, $5)
"""
# One send: an e-mail per address, in the given order, sharing the send's id.
INSERT_EMAILS = """
INSERT INTO email_outbox
    (company_id, invoice_id, template, to_email, custom_message, user_id, created_at, send_id)
SELECT $1, $2, $3, address, $4, $5, $6, $7
FROM unnest($8::text[]) WITH ORDINALITY AS addressed (address, position)
ORDER BY position
RETURNING id
"""
# Users an invoice's e-mail goes to besides its recipient's address: invoice members who
# receive it and are still members of its company, and the recipient's client-portal contacts.
RECEIVING_USERS = """
SELECT m.member_id AS user_id FROM invoice_members m
JOIN company_members c ON c.company_id = $2 AND c.user_id = m.member_id
WHERE m.invoice_id = $1 AND m.receive_invoice
UNION
SELECT user_id FROM recipient_contacts WHERE recipient_id = $3 AND company_id = $2
ORDER BY user_id
"""
COMPANY_MEMBER_IDS = "SELECT user_id FROM company_members WHERE company_id = $1"


async def members(db: Db, invoice_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(MEMBERS, invoice_id)]


async def replace_members(
    conn: asyncpg.Connection, invoice_id: int, rows: list[dict[str, Any]]
) -> None:
    await conn.execute(DELETE_MEMBERS, invoice_id)
    await conn.executemany(
        INSERT_MEMBER,
        [
            (
                invoice_id,
                row["member_id"],
                row["view_invoice"],
                row["receive_invoice"],
                row["action_invoice"],
            )
            for row in rows
        ],
    )


async def company_member_ids(db: Db, company_id: int) -> set[int]:
    return {row["user_id"] for row in await db.fetch(COMPANY_MEMBER_IDS, company_id)}


async def queue_emails(
    conn: asyncpg.Connection,
    invoice: Invoice,
    template: str,
    to_emails: list[str],
    custom_message: str | None,
    user_id: int,
    queued_at: datetime,
) -> list[int]:
    """One send: an e-mail to each address. `queued_at` (the service's clock) is what the
    e-mail quotas count by."""
    rows = await conn.fetch(
        INSERT_EMAILS,
        invoice.company_id,
        invoice.id,
        template,
        custom_message,
        user_id,
        queued_at,
        uuid.uuid4(),
        to_emails,
    )
    return [int(row["id"]) for row in rows]


async def receiving_users(db: Db, invoice: Invoice) -> list[int]:
    rows = await db.fetch(
        RECEIVING_USERS, invoice.id, invoice.company_id, invoice.invoice_recipient_id
    )
    return [int(row["user_id"]) for row in rows]
