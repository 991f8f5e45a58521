"""Recurring templates: generating children, on demand (create-next) and on schedule.

A child bills one period of its template. Exactly once per period, however many schedulers
run and whatever crashes: each generation runs in one transaction holding the template's row
lock, and a unique index on (template, period start) refuses a second child for a period.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import asyncpg

from billing_service.invoices import lifecycle
from billing_service.invoices.repositories import invoices as repo
from billing_service.invoices.repositories import members as members_repo
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services.records import InvoiceRecords, clone_invoice
from billing_service.mail.services.quota import MailQuota
from billing_service.platform.loops import (
    BY_HAND,
    LoopContext,
    describe,
    next_attempt,
)
from billing_service.platform.permissions import authorize_document
from billing_service.platform.recurrence import (
    company_today,
    first_run_on_or_after,
    is_timezone,
    period,
    period_label,
    run_date,
)
from billing_service.platform.scope import Scope
from billing_service.platform.settings import Settings
from billing_service.scheduling import repositories as scheduling
from shared.clock import Clock
from shared.errors import Conflict
from shared.fields import MAX_DATE
from shared.logging import get_logger

log = get_logger("billing.scheduler")


def _finished(template: Invoice, run: int) -> bool:
    if template.max_runs is not None and run >= template.max_runs:
        return True
    assert template.anchor_date is not None and template.recurring is not None
    try:
        start = run_date(template.anchor_date, template.recurring, run)
    except OverflowError:  # a legacy row dated near year 9999: no run can follow
        return True
    if template.end_date is not None and start > template.end_date:
        return True
    # A child dated past the last date clients may send would be one nobody can edit (and, near
    # year 9999, one whose dates overflow): the template ends before it.
    return start + _payment_terms(template) > MAX_DATE


def _payment_terms(template: Invoice) -> timedelta:
    if template.due_date is None or template.scheduled_date is None:
        return timedelta(0)
    return max(template.due_date - template.scheduled_date, timedelta(0))


class RecurringService:
    def __init__(self, records: InvoiceRecords, quota: MailQuota | None = None) -> None:
        self.records = records
        self.pool = records.pool
        self.quota = quota or MailQuota.from_settings(Settings())

    async def create_next(self, scope: Scope, template_id: int) -> InvoiceDetail:
        """Generate the template's next period now (before its date), and advance it; the
        child as its events carry it (one snapshot)."""
        async with self.pool.acquire() as conn, conn.transaction():
            template = await self.records.find(conn, scope, template_id, "create", lock=True)
            lifecycle.require("create_next", template.type, template.status)
            if template.auto_send:
                # The child is e-mailed at once: as a send, it needs the send right and quota.
                authorize_document(scope, "invoice", template.company_id, "send")
                await self.quota.check_send(conn, template, scope.user_id, self.records.clock())
            today = await self.records.today(conn, template.company_id)
            child = await self.generate(conn, template, scope.user_id, today=today)
            if child is None:
                raise Conflict("The template has no run left (its end date or run limit).")
            return child

    async def generate(
        self, conn: asyncpg.Connection, template: Invoice, user_id: int | None, *, today: date
    ) -> InvoiceDetail | None:
        """The child for the template's next run (as its events carry it); the caller holds the template's row lock.
        `today` is the company's date: a period that started before it is never auto-sent."""
        run = template.run_count
        if template.anchor_date is None or template.recurring is None or _finished(template, run):
            await self._advance(conn, template, run, finished=True)
            return None
        start, end = period(template.anchor_date, template.recurring, run)
        child = await self._insert_child(conn, template, start, end, user_id, today)
        await self._advance(conn, template, run + 1, finished=_finished(template, run + 1))
        return child

    async def skip_missed(self, conn: asyncpg.Connection, template: Invoice, cutoff: date) -> int:
        """Skip (never bill) the template's missed runs dated before `cutoff`, with a history
        entry; the number skipped. The caller holds the template's row lock."""
        run, anchor, interval = template.run_count, template.anchor_date, template.recurring
        if anchor is None or interval is None or _finished(template, run):
            return 0
        if template.end_date is not None:  # runs after the end date are no periods at all
            cutoff = min(cutoff, template.end_date + timedelta(days=1))
        first = first_run_on_or_after(anchor, interval, cutoff)
        if template.max_runs is not None:
            first = min(first, template.max_runs)
        if first <= run:
            return 0
        skipped = first - run
        await repo.add_history(
            conn,
            template.id,
            None,
            f"periods_skipped:{skipped} from {run_date(anchor, interval, run).isoformat()}"
            f" to {run_date(anchor, interval, first - 1).isoformat()} (older than the backfill"
            " limit)",
            template.status,
            template.status,
        )
        await self._advance(conn, template, first, finished=_finished(template, first))
        log.info("recurring_periods_skipped", invoice_id=template.id, skipped=skipped)
        return skipped

    async def _insert_child(
        self,
        conn: asyncpg.Connection,
        template: Invoice,
        start: date,
        end: date,
        user_id: int | None,
        today: date,
    ) -> InvoiceDetail | None:
        terms = (
            template.due_date - template.scheduled_date if template.due_date is not None else None
        )
        values = {
            "scheduled_date": start,
            "due_date": start + terms if terms is not None else None,
            "period": period_label(start, end),
            "recurring": None,
            "next_run_date": None,
            "end_date": None,
            "max_runs": None,
            "auto_send": False,
            "invoice_parent_id": template.id,
            "period_start": start,
            "valid_until": None,
            "created_by": user_id or template.created_by,
        }
        try:
            # A savepoint: a period billed already (the unique index) costs nothing, not even
            # an invoice number.
            async with conn.transaction():
                child = await clone_invoice(
                    conn,
                    template,
                    "invoice",
                    values,
                    user_id=user_id,
                    event=f"generated_from:{template.id}",
                )
        except asyncpg.UniqueViolationError:
            return None
        if template.auto_send and start < today:
            # A missed period caught up late: mailing it (and all its missed siblings) now
            # would surprise the client; it stays a draft to send by hand.
            await repo.add_history(
                conn, child.id, user_id, "auto_send_skipped:backfilled", "draft", "draft"
            )
        elif template.auto_send:
            child = await self._send(conn, child, user_id)
        verbs = ("created", "sent") if child.status == "sent" else ("created",)
        generated = f"{template.type}.invoice_generated"  # about, and ordered by, the child
        types = [f"{child.type}.{verb}" for verb in verbs] + [generated]
        return await self.records.announce_types(conn, child, types)

    async def _send(self, conn: asyncpg.Connection, child: Invoice, user_id: int | None) -> Invoice:
        recipient = (
            await repo.owned_by_company(
                conn, "recipients", child.invoice_recipient_id, child.company_id
            )
            if child.invoice_recipient_id is not None
            else None
        )
        if not recipient or not recipient.get("email"):
            log.warning("auto_send_without_email", invoice_id=child.id)
            return child
        now = self.records.clock()
        await members_repo.queue_emails(
            conn,
            child,
            "invoice-issued",
            [recipient["email"]],
            None,
            user_id or child.created_by,
            now,
        )
        await repo.add_history(conn, child.id, user_id, "sent", "draft", "sent")
        return await repo.update(conn, child.id, {"status": "sent", "sent_at": now})

    async def _advance(
        self, conn: asyncpg.Connection, template: Invoice, run: int, *, finished: bool
    ) -> None:
        assert template.recurring is not None or finished
        next_run = (
            None
            if finished or template.anchor_date is None or template.recurring is None
            else run_date(template.anchor_date, template.recurring, run)
        )
        await repo.update(
            conn,
            template.id,
            {"run_count": run, "next_run_date": next_run} | repo.SCHEDULER_CLEARED,
        )


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


Outcome = Literal["done", "failed"]
Take = Callable[
    [asyncpg.Connection, scheduling.CompanyDates, datetime, scheduling.Skip],
    Awaitable[scheduling.DueRow | None],
]
Work = Callable[[asyncpg.Connection, scheduling.DueRow], Awaitable[None]]


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
    ) -> None:
        self.pool = pool
        self.recurring = recurring
        self.clock = clock
        self.limits = limits or SchedulerLimits.from_settings(Settings())

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
        return SchedulerRun(generated, moved, failed + failed_moves + failed_overdue, overdue)

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
