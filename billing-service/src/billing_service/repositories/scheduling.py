"""SQL of the scheduler: templates due for a run, scheduled invoices that became due."""

from __future__ import annotations

from datetime import datetime

import asyncpg

# One template due for a run, the oldest run first; SKIP LOCKED lets every replica's
# scheduler take different templates instead of waiting on each other's.
NEXT_DUE_TEMPLATE = """
SELECT i.id FROM invoices i JOIN companies c ON c.id = i.company_id
WHERE i.type = 'recurring' AND i.deleted_at IS NULL AND i.status <> 'cancelled'
  AND i.next_run_date IS NOT NULL
  AND i.next_run_date <= ($1::timestamptz AT TIME ZONE c.timezone)::date
ORDER BY i.next_run_date, i.id
LIMIT 1
FOR UPDATE OF i SKIP LOCKED
"""

# Scheduled invoices whose issue date has come, in the company's own date, become due; the
# history records it. Two schedulers doing this at once: the second finds nothing left.
MOVE_TO_DUE = """
WITH moved AS (
    UPDATE invoices i SET status = 'due', version = i.version + 1, updated_at = now()
    FROM companies c
    WHERE c.id = i.company_id AND i.status = 'scheduled' AND i.deleted_at IS NULL
      AND i.scheduled_date <= ($1::timestamptz AT TIME ZONE c.timezone)::date
    RETURNING i.id
)
INSERT INTO invoice_history (invoice_id, user_id, event, from_status, to_status)
SELECT id, NULL, 'due', 'scheduled', 'due' FROM moved
RETURNING invoice_id
"""


async def next_due_template(conn: asyncpg.Connection, now: datetime) -> int | None:
    value = await conn.fetchval(NEXT_DUE_TEMPLATE, now)
    return int(value) if value is not None else None


async def move_scheduled_to_due(db: asyncpg.Pool | asyncpg.Connection, now: datetime) -> int:
    return len(await db.fetch(MOVE_TO_DUE, now))
