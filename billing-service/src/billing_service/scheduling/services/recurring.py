"""Recurring templates: generating children, on demand (create-next) and on schedule (the
Scheduler in scheduling.services.scheduler calls `generate`).

A child bills one period of its template. Exactly once per period, however many schedulers
run and whatever crashes: each generation runs in one transaction holding the template's row
lock, and a unique index on (template, period start) refuses a second child for a period.
"""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from billing_service.invoices import lifecycle
from billing_service.invoices.repositories import invoices as repo
from billing_service.invoices.repositories import members as members_repo
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services.records import InvoiceRecords, clone_invoice
from billing_service.mail.services.quota import MailQuota
from billing_service.platform.permissions import authorize_document
from billing_service.platform.recurrence import (
    first_run_on_or_after,
    period,
    period_label,
    run_date,
)
from billing_service.platform.scope import Scope
from billing_service.platform.settings import Settings
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
