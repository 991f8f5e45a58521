"""SQL of the e-mail outbox the mailer drains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class OutgoingEmail:
    id: int
    company_id: int
    invoice_id: int
    template: str
    to_email: str
    custom_message: str | None
    attempts: int
    user_id: int | None


# The next e-mail due, locked; SKIP LOCKED lets every replica's mailer take a different one,
# so none is sent twice at once.
NEXT_DUE = """
SELECT id, company_id, invoice_id, template, to_email, custom_message, attempts, user_id
FROM email_outbox
WHERE status = 'pending' AND next_attempt_at <= $1
ORDER BY next_attempt_at, id
LIMIT 1
FOR UPDATE SKIP LOCKED
"""
MARK_SENT = (
    "UPDATE email_outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1 WHERE id = $1"
)
RETRY_LATER = "UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = $2 WHERE id = $1"
GIVE_UP = "UPDATE email_outbox SET status = 'failed', attempts = attempts + 1 WHERE id = $1"


async def next_due(conn: asyncpg.Connection, now: datetime) -> OutgoingEmail | None:
    row = await conn.fetchrow(NEXT_DUE, now)
    return OutgoingEmail(**dict(row)) if row else None


async def mark_sent(conn: asyncpg.Connection, email_id: int, now: datetime) -> None:
    await conn.execute(MARK_SENT, email_id, now)


async def retry_later(conn: asyncpg.Connection, email_id: int, when: datetime) -> None:
    await conn.execute(RETRY_LATER, email_id, when)


async def give_up(conn: asyncpg.Connection, email_id: int) -> None:
    await conn.execute(GIVE_UP, email_id)
