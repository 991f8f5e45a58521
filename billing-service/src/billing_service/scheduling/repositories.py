"""SQL of the scheduler: templates due for a run, scheduled invoices that became due, invoices
that became overdue, and the record of a row that failed.

Each statement takes one row, locked: the scheduler handles it in its own transaction, so one
bad row can fail only itself. Company dates come in as (timezone, today) pairs the service
computed, so no timezone stored in a company row can make a statement fail for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

COMPANY_TIMEZONES = "SELECT DISTINCT timezone FROM companies"

# A row is due when its date has come in its company's timezone and it is not waiting for a
# retry, set aside, or done with for this pass ($4), and its company has not used up its share
# of the pass ($5). SKIP LOCKED lets every replica's scheduler take different rows.
_DUE_IN_COMPANY = """
FROM invoices i
JOIN companies c ON c.id = i.company_id
JOIN unnest($1::text[], $2::date[]) AS z (timezone, today) ON z.timezone = c.timezone
WHERE i.deleted_at IS NULL AND i.scheduler_failed_at IS NULL
  AND (i.scheduler_retry_at IS NULL OR i.scheduler_retry_at <= $3)
  AND NOT (i.id = ANY($4::bigint[]))
  AND NOT (i.company_id = ANY($5::bigint[]))
"""
# One template due for a run, the oldest run first.
NEXT_DUE_TEMPLATE = f"""
SELECT i.id, i.company_id, i.scheduler_attempts, z.today {_DUE_IN_COMPANY}
  AND i.type = 'recurring' AND i.status <> 'cancelled'
  AND i.next_run_date IS NOT NULL AND i.next_run_date <= z.today
ORDER BY i.next_run_date, i.id
LIMIT 1
FOR UPDATE OF i SKIP LOCKED
"""
# One scheduled invoice whose issue date has come.
NEXT_SCHEDULED_DUE = f"""
SELECT i.id, i.company_id, i.scheduler_attempts, z.today {_DUE_IN_COMPANY}
  AND i.status = 'scheduled' AND i.scheduled_date <= z.today
ORDER BY i.scheduled_date, i.id
LIMIT 1
FOR UPDATE OF i SKIP LOCKED
"""
# One invoice awaiting payment, with a balance, whose due date has passed in its company
# (lifecycle.OVERDUE) and whose passing is not announced yet: the partial index
# invoices_overdue_unannounced holds exactly the candidates.
NEXT_OVERDUE = f"""
SELECT i.id, i.company_id, i.scheduler_attempts, z.today {_DUE_IN_COMPANY}
  AND i.status IN ('sent', 'due') AND i.overdue_announced_at IS NULL
  AND i.type = 'invoice' AND i.due_date < z.today AND i.total > i.amount_paid + i.amount_credited
ORDER BY i.due_date, i.id
LIMIT 1
FOR UPDATE OF i SKIP LOCKED
"""
# Not an edit: the version (the ETag) stays.
OVERDUE_ANNOUNCED = "UPDATE invoices SET overdue_announced_at = $2 WHERE id = $1"
# A failure, recorded without touching the version (the ETag) or the status.
RECORD_FAILURE = """
UPDATE invoices SET scheduler_attempts = $2, scheduler_error = $3, scheduler_retry_at = $4,
    scheduler_failed_at = $5
WHERE id = $1
"""


@dataclass(frozen=True)
class DueRow:
    id: int
    company_id: int
    attempts: int  # failed attempts so far
    today: date  # in the company's timezone


CompanyDates = dict[str, date]  # timezone name -> today there


async def company_timezones(db: asyncpg.Pool | asyncpg.Connection) -> list[str]:
    return [row["timezone"] for row in await db.fetch(COMPANY_TIMEZONES)]


@dataclass(frozen=True)
class Skip:
    """What this pass is done with: rows that had their share, companies that had theirs."""

    rows: list[int]
    companies: list[int]


async def _next(
    conn: asyncpg.Connection, sql: str, dates: CompanyDates, now: datetime, skip: Skip
) -> DueRow | None:
    row = await conn.fetchrow(
        sql, list(dates), list(dates.values()), now, skip.rows, skip.companies
    )
    if row is None:
        return None
    return DueRow(row["id"], row["company_id"], row["scheduler_attempts"], row["today"])


async def next_due_template(
    conn: asyncpg.Connection, dates: CompanyDates, now: datetime, skip: Skip
) -> DueRow | None:
    return await _next(conn, NEXT_DUE_TEMPLATE, dates, now, skip)


async def next_scheduled_due(
    conn: asyncpg.Connection, dates: CompanyDates, now: datetime, skip: Skip
) -> DueRow | None:
    return await _next(conn, NEXT_SCHEDULED_DUE, dates, now, skip)


async def next_overdue(
    conn: asyncpg.Connection, dates: CompanyDates, now: datetime, skip: Skip
) -> DueRow | None:
    return await _next(conn, NEXT_OVERDUE, dates, now, skip)


async def overdue_announced(conn: asyncpg.Connection, invoice_id: int, at: datetime) -> None:
    await conn.execute(OVERDUE_ANNOUNCED, invoice_id, at)


async def record_failure(
    conn: asyncpg.Connection,
    invoice_id: int,
    attempts: int,
    error: str,
    retry_at: datetime | None,
    failed_at: datetime | None,
) -> None:
    await conn.execute(RECORD_FAILURE, invoice_id, attempts, error, retry_at, failed_at)
