"""SQL of the e-mail outbox the mailer drains."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True)
class OutgoingEmail:
    id: int
    company_id: int
    invoice_id: int | None  # None: a notice about no invoice, shown from `context`
    template: str
    to_email: str
    custom_message: str | None
    attempts: int
    user_id: int | None
    context: dict[str, Any] | None = None


# The next e-mail due, locked; SKIP LOCKED lets every replica's mailer take a different one,
# so none is sent twice at once.
NEXT_DUE = """
SELECT id, company_id, invoice_id, template, to_email, custom_message, attempts, user_id,
       context::text AS context
FROM email_outbox
WHERE status = 'pending' AND next_attempt_at <= $1
ORDER BY next_attempt_at, id
LIMIT 1
FOR UPDATE SKIP LOCKED
"""
QUEUE_NOTICE = """
INSERT INTO email_outbox (company_id, template, to_email, context, next_attempt_at, created_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $5)
"""
MARK_SENT = (
    "UPDATE email_outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1 WHERE id = $1"
)
RETRY_LATER = """
UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3
WHERE id = $1
"""
GIVE_UP = """
UPDATE email_outbox SET status = 'failed', attempts = attempts + 1, last_error = $2 WHERE id = $1
"""
# Over its company's hourly cap: waits, without counting as an attempt.
DEFER = "UPDATE email_outbox SET next_attempt_at = $2 WHERE id = $1"

# The quotas: how many sends of an invoice, or e-mails of a company (and the oldest one's
# time), since an instant. A send is one API call, however many addressees it queued.
QUEUED_FOR_INVOICE = """
SELECT count(DISTINCT send_id) AS count, min(created_at) AS oldest FROM email_outbox
WHERE invoice_id = $1 AND created_at > $2
"""
QUEUED_FOR_COMPANY = """
SELECT count(*) AS count, min(created_at) AS oldest FROM email_outbox
WHERE company_id = $1 AND created_at > $2
"""
# Serialises the quota checks of one company (then of one user) until the transaction ends, so
# concurrent sends of different invoices cannot all see the same count under the cap.
LOCK_QUOTA = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
QUEUED_BY_USER = """
SELECT count(*) AS count, min(created_at) AS oldest FROM email_outbox
WHERE user_id = $1 AND created_at > $2
"""
SENT_FOR_COMPANY = """
SELECT count(*) AS count, min(sent_at) AS oldest FROM email_outbox
WHERE company_id = $1 AND status = 'sent' AND sent_at > $2
"""


@dataclass(frozen=True)
class Tally:
    count: int
    oldest: datetime | None


async def next_due(conn: asyncpg.Connection, now: datetime) -> OutgoingEmail | None:
    row = await conn.fetchrow(NEXT_DUE, now)
    if row is None:
        return None
    context = json.loads(row["context"]) if row["context"] is not None else None
    return OutgoingEmail(**(dict(row) | {"context": context}))


async def queue_notice(
    conn: asyncpg.Connection,
    company_id: int,
    template: str,
    to_email: str,
    context_json: str,
    now: datetime,
) -> None:
    """An e-mail about no invoice (its template shows `context`), due now."""
    await conn.execute(QUEUE_NOTICE, company_id, template, to_email, context_json, now)


async def mark_sent(conn: asyncpg.Connection, email_id: int, now: datetime) -> None:
    await conn.execute(MARK_SENT, email_id, now)


async def retry_later(conn: asyncpg.Connection, email_id: int, when: datetime, error: str) -> None:
    await conn.execute(RETRY_LATER, email_id, when, error)


async def give_up(conn: asyncpg.Connection, email_id: int, error: str) -> None:
    await conn.execute(GIVE_UP, email_id, error)


async def defer(conn: asyncpg.Connection, email_id: int, when: datetime) -> None:
    await conn.execute(DEFER, email_id, when)


async def tally(conn: asyncpg.Connection, sql: str, owner_id: int, since: datetime) -> Tally:
    """`sql`'s count and oldest e-mail (or send) of one owner after `since`."""
    row = await conn.fetchrow(sql, owner_id, since)
    return Tally(int(row["count"]), row["oldest"])


async def queued_for_invoice(conn: asyncpg.Connection, invoice_id: int, since: datetime) -> Tally:
    return await tally(conn, QUEUED_FOR_INVOICE, invoice_id, since)


async def queued_for_company(conn: asyncpg.Connection, company_id: int, since: datetime) -> Tally:
    return await tally(conn, QUEUED_FOR_COMPANY, company_id, since)


async def lock_quota(conn: asyncpg.Connection, company_id: int, user_id: int) -> None:
    await conn.execute(LOCK_QUOTA, f"mail-quota:company:{company_id}")
    await conn.execute(LOCK_QUOTA, f"mail-quota:user:{user_id}")


async def queued_by_user(conn: asyncpg.Connection, user_id: int, since: datetime) -> Tally:
    return await tally(conn, QUEUED_BY_USER, user_id, since)


async def sent_for_company(conn: asyncpg.Connection, company_id: int, since: datetime) -> Tally:
    return await tally(conn, SENT_FOR_COMPANY, company_id, since)
