"""SQL of automatic reminders: the companies' settings, the invoices due for a reminder, the
reminders sent and the rows that wait or failed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from billing_service.platform.repositories.crud import Db

SETTINGS = "SELECT enabled, steps::text AS steps FROM reminder_settings WHERE company_id = $1"
PUT_SETTINGS = """
INSERT INTO reminder_settings (company_id, enabled, steps, updated_at)
VALUES ($1, $2, $3::jsonb, now())
ON CONFLICT (company_id) DO UPDATE
SET enabled = excluded.enabled, steps = excluded.steps, updated_at = now()
RETURNING enabled, steps::text AS steps
"""

# The step an invoice is due for next, as a date: the first step when none was sent, else the
# step after the last one sent, else (the last step sent) its next repeat. Steps strictly
# increase, so when any later step's day has come this one's has too.
_NEXT_ON = """
CASE
    WHEN last.step IS NULL THEN i.due_date + (rs.steps -> 0 ->> 'days')::int
    WHEN last.step < jsonb_array_length(rs.steps)
        THEN i.due_date + (rs.steps -> last.step ->> 'days')::int
    WHEN last.step = jsonb_array_length(rs.steps)
        THEN last.sent_on + (rs.steps -> (last.step - 1) ->> 'repeat_every_days')::int
END
"""
# One issued invoice awaiting payment, of a company with reminders on, neither it nor its
# customer paused, whose next reminder's day has come in its company's timezone, not waiting
# for a retry, not set aside (an update of the invoice since, a newer version, lets it try again), not done with this pass ($4), its company not past its share
# ($5). Locked: SKIP LOCKED lets every replica's scheduler take a different one.
NEXT_DUE = f"""
SELECT i.id, i.company_id, z.today
FROM reminder_settings rs
JOIN companies c ON c.id = rs.company_id
JOIN unnest($1::text[], $2::date[]) AS z (timezone, today) ON z.timezone = c.timezone
JOIN invoices i ON i.company_id = rs.company_id
LEFT JOIN recipients r ON r.id = i.invoice_recipient_id
LEFT JOIN reminder_retries f ON f.invoice_id = i.id
LEFT JOIN LATERAL (
    SELECT s.step, s.sent_on FROM invoice_reminders s WHERE s.invoice_id = i.id
    ORDER BY s.step DESC, s.repeat DESC LIMIT 1
) last ON true
WHERE rs.enabled
  AND i.type = 'invoice' AND i.status IN ('approved', 'sent', 'due')
  AND i.deleted_at IS NULL AND NOT i.reminders_paused AND NOT coalesce(r.reminders_paused, false)
  AND i.due_date IS NOT NULL AND i.scheduled_date <= z.today
  AND i.total > i.amount_paid + i.amount_credited
  AND (f.invoice_id IS NULL OR (f.failed_at IS NULL AND f.retry_at <= $3)
       OR f.invoice_version < i.version)
  AND NOT (i.id = ANY($4::bigint[]))
  AND NOT (i.company_id = ANY($5::bigint[]))
  AND {_NEXT_ON} <= z.today
ORDER BY i.due_date, i.id
LIMIT 1
FOR UPDATE OF i SKIP LOCKED
"""
LAST_SENT = """
SELECT step, repeat, sent_on FROM invoice_reminders WHERE invoice_id = $1
ORDER BY step DESC, repeat DESC LIMIT 1
"""
RECORD_SENT = """
INSERT INTO invoice_reminders
    (invoice_id, company_id, step, repeat, template, sent_on, addresses, late_fee, due_before,
     due_after, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""
CLEAR_RETRY = "DELETE FROM reminder_retries WHERE invoice_id = $1"
# Waiting for an e-mail cap: not an attempt.
WAIT = """
INSERT INTO reminder_retries (invoice_id, retry_at) VALUES ($1, $2)
ON CONFLICT (invoice_id) DO UPDATE SET retry_at = excluded.retry_at
"""
RECORD_FAILURE = """
INSERT INTO reminder_retries (invoice_id, attempts, error, retry_at, failed_at, invoice_version)
VALUES ($1, $2, $3, $4, $5, (SELECT version FROM invoices WHERE id = $1))
ON CONFLICT (invoice_id) DO UPDATE
SET attempts = excluded.attempts, error = excluded.error, retry_at = excluded.retry_at,
    failed_at = excluded.failed_at, invoice_version = excluded.invoice_version
"""
ATTEMPTS = "SELECT attempts FROM reminder_retries WHERE invoice_id = $1"
MAX_POSITION = "SELECT coalesce(max(position), -1) FROM invoice_items WHERE invoice_id = $1"


@dataclass(frozen=True)
class Settings:
    enabled: bool
    steps: list[dict[str, Any]]


@dataclass(frozen=True)
class DueInvoice:
    id: int
    company_id: int
    today: date  # in the company's timezone


@dataclass(frozen=True)
class SentRow:
    step: int
    repeat: int
    sent_on: date


@dataclass(frozen=True)
class Reminder:
    """A reminder as it is recorded."""

    invoice_id: int
    company_id: int
    step: int
    repeat: int
    template: str
    sent_on: date
    addresses: int
    late_fee: Decimal | None
    due_before: date | None
    due_after: date | None


def _settings(row: asyncpg.Record | None) -> Settings:
    if row is None:
        return Settings(False, [])
    return Settings(bool(row["enabled"]), json.loads(row["steps"]))


async def settings(db: Db, company_id: int) -> Settings:
    """A company's settings; off, with no steps, when it never set them."""
    return _settings(await db.fetchrow(SETTINGS, company_id))


async def put_settings(
    db: Db, company_id: int, enabled: bool, steps: list[dict[str, Any]]
) -> Settings:
    return _settings(await db.fetchrow(PUT_SETTINGS, company_id, enabled, json.dumps(steps)))


async def next_due(
    conn: asyncpg.Connection,
    dates: dict[str, date],
    now: datetime,
    skip_rows: list[int],
    skip_companies: list[int],
) -> DueInvoice | None:
    row = await conn.fetchrow(
        NEXT_DUE, list(dates), list(dates.values()), now, skip_rows, skip_companies
    )
    return None if row is None else DueInvoice(row["id"], row["company_id"], row["today"])


async def last_sent(db: Db, invoice_id: int) -> SentRow | None:
    row = await db.fetchrow(LAST_SENT, invoice_id)
    return None if row is None else SentRow(row["step"], row["repeat"], row["sent_on"])


async def record_sent(conn: asyncpg.Connection, reminder: Reminder, at: datetime) -> None:
    await conn.execute(
        RECORD_SENT,
        reminder.invoice_id,
        reminder.company_id,
        reminder.step,
        reminder.repeat,
        reminder.template,
        reminder.sent_on,
        reminder.addresses,
        reminder.late_fee,
        reminder.due_before,
        reminder.due_after,
        at,
    )


async def clear_retry(db: Db, invoice_id: int) -> None:
    await db.execute(CLEAR_RETRY, invoice_id)


async def wait_until(conn: asyncpg.Connection, invoice_id: int, when: datetime) -> None:
    await conn.execute(WAIT, invoice_id, when)


async def attempts(conn: asyncpg.Connection, invoice_id: int) -> int:
    return int(await conn.fetchval(ATTEMPTS, invoice_id) or 0)


async def record_failure(
    conn: asyncpg.Connection,
    invoice_id: int,
    attempts: int,
    error: str,
    retry_at: datetime | None,
    failed_at: datetime | None,
) -> None:
    await conn.execute(RECORD_FAILURE, invoice_id, attempts, error, retry_at, failed_at)


async def next_item_position(conn: asyncpg.Connection, invoice_id: int) -> int:
    return int(await conn.fetchval(MAX_POSITION, invoice_id)) + 1
