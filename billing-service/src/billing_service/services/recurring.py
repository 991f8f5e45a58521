"""Recurring templates: generating children, on demand (create-next) and on schedule.

A child bills one period of its template. Exactly once per period, however many schedulers
run and whatever crashes: each generation runs in one transaction holding the template's row
lock, and a unique index on (template, period start) refuses a second child for a period.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from billing_service import lifecycle
from billing_service.recurrence import period, period_label, run_date
from billing_service.repositories import invoices as repo
from billing_service.repositories import scheduling
from billing_service.repositories.invoices import Invoice
from billing_service.scope import Scope
from billing_service.services.invoices import PREFIXES, Clock, InvoiceService
from shared.errors import Conflict
from shared.logging import get_logger

log = get_logger("billing.scheduler")


def _finished(template: Invoice, run: int) -> bool:
    if template.max_runs is not None and run >= template.max_runs:
        return True
    assert template.anchor_date is not None and template.recurring is not None
    start = run_date(template.anchor_date, template.recurring, run)
    return template.end_date is not None and start > template.end_date


class RecurringService:
    def __init__(self, pool: asyncpg.Pool, invoices: InvoiceService) -> None:
        self.pool = pool
        self.invoices = invoices

    async def create_next(self, scope: Scope, template_id: int) -> Invoice:
        """Generate the template's next period now (before its date), and advance it."""
        async with self.pool.acquire() as conn, conn.transaction():
            template = await self.invoices.find(conn, scope, template_id, "create", lock=True)
            lifecycle.require("create_next", template.type, template.status)
            child = await self.generate(conn, template, scope.user_id)
            if child is None:
                raise Conflict("The template has no run left (its end date or run limit).")
            return child

    async def generate(
        self, conn: asyncpg.Connection, template: Invoice, user_id: int | None
    ) -> Invoice | None:
        """The child for the template's next run; the caller holds the template's row lock."""
        run = template.run_count
        if template.anchor_date is None or template.recurring is None or _finished(template, run):
            await self._advance(conn, template, run, finished=True)
            return None
        start, end = period(template.anchor_date, template.recurring, run)
        child = await self._insert_child(conn, template, start, end, user_id)
        await self._advance(conn, template, run + 1, finished=_finished(template, run + 1))
        return child

    async def _insert_child(
        self, conn: asyncpg.Connection, template: Invoice, start: Any, end: Any, user_id: int | None
    ) -> Invoice | None:
        terms = (
            template.due_date - template.scheduled_date if template.due_date is not None else None
        )
        values = {name: getattr(template, name) for name in repo.EDITABLE} | {
            "currency": template.currency.strip(),
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
            "subtotal": template.subtotal,
            "tax": template.tax,
            "total": template.total,
            "company_id": template.company_id,
            "public_id": secrets.token_urlsafe(16),
            "type": "invoice",
            "status": "draft",
            "created_by": user_id or template.created_by,
        }
        try:
            # A savepoint: a period billed already (the unique index) costs nothing, not even
            # an invoice number.
            async with conn.transaction():
                number = await repo.next_number(conn, template.company_id, PREFIXES["invoice"])
                child = await repo.insert(conn, values | {"label": f"INV-{number:04d}"})
        except asyncpg.UniqueViolationError:
            return None
        items = [
            {name: item[name] for name in repo.ITEM_COLUMNS}
            for item in await repo.items(conn, template.id)
        ]
        await repo.insert_items(conn, child.id, items)
        await repo.add_history(
            conn, child.id, user_id, f"generated_from:{template.id}", None, "draft"
        )
        if template.auto_send:
            child = await self._send(conn, child, user_id)
        return child

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
        await repo.queue_email(
            conn, child, "invoice-issued", recipient["email"], None, user_id or child.created_by
        )
        await repo.add_history(conn, child.id, user_id, "sent", "draft", "sent")
        return await repo.update(conn, child.id, {"status": "sent", "sent_at": datetime.now(UTC)})

    async def _advance(
        self, conn: asyncpg.Connection, template: Invoice, run: int, *, finished: bool
    ) -> None:
        assert template.recurring is not None or finished
        next_run = (
            None
            if finished or template.anchor_date is None or template.recurring is None
            else run_date(template.anchor_date, template.recurring, run)
        )
        await repo.update(conn, template.id, {"run_count": run, "next_run_date": next_run})


@dataclass(frozen=True)
class SchedulerRun:
    generated: int
    moved_to_due: int


class Scheduler:
    """Runs in every replica. Each pass generates every period that has come (oldest first,
    so downtime is caught up in order) and moves scheduled invoices to due on their date."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        recurring: RecurringService,
        clock: Clock,
        *,
        max_per_pass: int = 10_000,
    ) -> None:
        self.pool = pool
        self.recurring = recurring
        self.clock = clock
        self.max_per_pass = max_per_pass

    async def run_once(self) -> SchedulerRun:
        now = self.clock()
        generated = 0
        while generated < self.max_per_pass:
            if not await self._generate_one(now):
                break
            generated += 1
        moved = await scheduling.move_scheduled_to_due(self.pool, now)
        return SchedulerRun(generated, moved)

    async def _generate_one(self, now: datetime) -> bool:
        """One period of one due template, in its own transaction; False when none is due."""
        async with self.pool.acquire() as conn, conn.transaction():
            template_id = await scheduling.next_due_template(conn, now)
            if template_id is None:
                return False
            template = await repo.by_id(conn, template_id)  # locked by the query above
            await self.recurring.generate(conn, template, None)
            return True

    async def run_forever(self, interval: float) -> None:
        while True:
            try:
                result = await self.run_once()
                if result.generated or result.moved_to_due:
                    log.info(
                        "scheduler_pass",
                        generated=result.generated,
                        moved_to_due=result.moved_to_due,
                    )
            except (asyncpg.PostgresError, OSError):
                log.warning("scheduler_pass_failed", exc_info=True)
            await asyncio.sleep(interval)


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
