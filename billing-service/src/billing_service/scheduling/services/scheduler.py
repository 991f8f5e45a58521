"""The scheduler loop: each pass generates the recurring periods that have come, moves
scheduled invoices to due on their date and announces the invoices that became overdue (three
steps), then runs the steps domains above add (dunning's reminders), every row in its own
transaction."""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import asyncpg

from billing_service.invoices.repositories import invoices as repo
from billing_service.platform.loops import (
    BY_HAND,
    LoopContext,
    describe,
    next_attempt,
)
from billing_service.platform.recurrence import (
    company_today,
    is_timezone,
)
from billing_service.platform.settings import Settings
from billing_service.scheduling import repositories as scheduling
from billing_service.scheduling.services.recurring import RecurringService
from shared.clock import Clock
from shared.logging import get_logger

log = get_logger("billing.scheduler")


@dataclass(frozen=True)
class SchedulerLimits:
    max_attempts: int  # a row failing this often is set aside
    catchup_per_pass: int  # periods of one template per pass
    max_backfill: timedelta  # missed periods older than this are skipped, not billed
    # Rows of one company per pass: a tenant with a large backlog waits its turn instead of
    # holding up every other tenant's due periods until its backlog is through.
    company_share_per_pass: int = 100
    max_per_pass: int = 10_000  # rows of each kind per pass

    @classmethod
    def from_settings(cls, settings: Settings) -> SchedulerLimits:
        return cls(
            settings.scheduler_max_attempts,
            settings.recurring_catchup_per_pass,
            timedelta(days=settings.recurring_max_backfill_days),
            settings.scheduler_company_share_per_pass,
        )


@dataclass(frozen=True)
class SchedulerRun:
    generated: int  # periods billed or skipped
    moved_to_due: int
    failed: int = 0
    overdue: int = 0  # invoices whose passed due date was announced
    added: int = 0  # rows done by the added steps (reminders sent)


Outcome = Literal["done", "failed"]
Take = Callable[
    [asyncpg.Connection, scheduling.CompanyDates, datetime, scheduling.Skip],
    Awaitable[scheduling.DueRow | None],
]
Work = Callable[[asyncpg.Connection, scheduling.DueRow], Awaitable[None]]
# A step a domain above adds to every pass (dunning's reminders), given the pass's instant
# and company dates; it isolates its own rows: (done, failed).
AddedStep = Callable[[datetime, scheduling.CompanyDates, LoopContext], Awaitable[tuple[int, int]]]


async def _make_due(conn: asyncpg.Connection, due: scheduling.DueRow) -> None:
    """A scheduled invoice whose issue date has come becomes due; the history records it."""
    await repo.update(conn, due.id, {"status": "due"} | repo.SCHEDULER_CLEARED)
    await repo.add_history(conn, due.id, None, "due", "scheduled", "due")


class Scheduler:
    """Runs in every replica. Each pass generates the periods that have come (oldest first, so
    downtime is caught up in order, a bounded number per template and pass), moves scheduled
    invoices to due on their date and announces the invoices that became overdue. Every row is handled in its own transaction: a row that
    fails is recorded (attempts, error, retry with backoff), then set aside, and never stops
    the others."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        recurring: RecurringService,
        clock: Clock,
        limits: SchedulerLimits | None = None,
        added_steps: Sequence[AddedStep] = (),
    ) -> None:
        self.pool = pool
        self.recurring = recurring
        self.clock = clock
        self.limits = limits or SchedulerLimits.from_settings(Settings())
        self.added_steps = added_steps

    async def run_once(self, loop: LoopContext = BY_HAND) -> SchedulerRun:
        now = self.clock()
        dates = await self._company_dates(now)
        generated, failed = await self._drain(
            scheduling.next_due_template,
            self._run_template,
            now,
            dates,
            loop,
            per_row=self.limits.catchup_per_pass,
            set_aside_as="paused",
        )
        moved, failed_moves = await self._drain(
            scheduling.next_scheduled_due,
            _make_due,
            now,
            dates,
            loop,
            per_row=1,
            set_aside_as="due_failed",
        )
        overdue, failed_overdue = await self._drain(
            scheduling.next_overdue,
            self._announce_overdue,
            now,
            dates,
            loop,
            per_row=1,
            set_aside_as="overdue_failed",
        )
        added, failed_added = 0, 0
        for step in self.added_steps:
            done, failed_step = await step(now, dates, loop)
            added, failed_added = added + done, failed_added + failed_step
        failures = failed + failed_moves + failed_overdue + failed_added
        return SchedulerRun(generated, moved, failures, overdue, added)

    async def _company_dates(self, now: datetime) -> scheduling.CompanyDates:
        timezones = await scheduling.company_timezones(self.pool)
        for name in timezones:
            if not is_timezone(name):
                log.warning("unknown_company_timezone_counted_as_utc", timezone=name[:64])
        return {name: company_today(now, name) for name in timezones}

    async def _drain(
        self,
        take: Take,
        work: Work,
        now: datetime,
        dates: scheduling.CompanyDates,
        loop: LoopContext,
        *,
        per_row: int,
        set_aside_as: str,
    ) -> tuple[int, int]:
        """Handle due rows one by one, each at most `per_row` times and each company's at most
        its share this pass: (done, failed)."""
        by_row: collections.Counter[int] = collections.Counter()
        by_company: collections.Counter[int] = collections.Counter()
        skip = scheduling.Skip(rows=[], companies=[])
        outcomes: collections.Counter[Outcome] = collections.Counter()
        while outcomes.total() < self.limits.max_per_pass and not loop.stop_requested():
            async with self.pool.acquire() as conn, conn.transaction():
                due = await take(conn, dates, now, skip)
                if due is None:
                    break
                outcome = await self._handle(conn, due, work, now, set_aside_as)
            loop.count_row(outcome)
            outcomes[outcome] += 1
            by_row[due.id] += 1
            by_company[due.company_id] += 1
            if by_row[due.id] >= per_row:
                skip.rows.append(due.id)
            if by_company[due.company_id] >= self.limits.company_share_per_pass:
                skip.companies.append(due.company_id)
        return outcomes["done"], outcomes["failed"]

    async def _handle(
        self,
        conn: asyncpg.Connection,
        due: scheduling.DueRow,
        work: Work,
        now: datetime,
        set_aside_as: str,
    ) -> Outcome:
        """The work on one row taken (and locked) in the caller's transaction."""
        try:
            async with conn.transaction():  # a savepoint: a failure keeps the row lock
                await work(conn, due)
        except Exception as error:
            await self._failed(conn, due, now, error, set_aside_as=set_aside_as)
            return "failed"
        return "done"

    async def _run_template(self, conn: asyncpg.Connection, due: scheduling.DueRow) -> None:
        """One period of the template, or one skip of all its runs too old to bill."""
        template = await repo.by_id(conn, due.id)
        cutoff = due.today - self.limits.max_backfill
        if not await self.recurring.skip_missed(conn, template, cutoff):
            await self.recurring.generate(conn, template, None, today=due.today)

    async def _announce_overdue(self, conn: asyncpg.Connection, due: scheduling.DueRow) -> None:
        """invoice.overdue, once per passing of a due date (a new one is announced again)."""
        await scheduling.overdue_announced(conn, due.id, self.clock())
        await self.recurring.records.announce(conn, await repo.by_id(conn, due.id), "overdue")

    async def _failed(
        self,
        conn: asyncpg.Connection,
        due: scheduling.DueRow,
        now: datetime,
        error: Exception,
        *,
        set_aside_as: str,
    ) -> None:
        """Record the row's failure; after the last attempt, set it aside with a history entry
        saying why (a template is paused, a scheduled invoice stays scheduled)."""
        attempts, reason = due.attempts + 1, describe(error)
        retry_at = next_attempt(attempts, self.limits.max_attempts, now)
        failed_at = now if retry_at is None else None
        await scheduling.record_failure(conn, due.id, attempts, reason, retry_at, failed_at)
        if failed_at is not None:
            status = (await repo.by_id(conn, due.id)).status
            await repo.add_history(conn, due.id, None, f"{set_aside_as}:{reason}", status, status)
        log.warning(
            "scheduler_row_failed",
            invoice_id=due.id,
            attempts=attempts,
            error=reason,
            set_aside=failed_at is not None,
            exc_info=error,
        )
