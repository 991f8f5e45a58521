"""The scheduler's reminder step: each invoice due for a reminder gets it, once.

Every invoice is handled in its own transaction holding its row lock (taken with SKIP LOCKED,
so replicas take different invoices). Inside it the invoice's last reminder is read again
(a statement after the lock sees what another replica committed), and the reminder's e-mails,
its late fee line, its due-date move, its record in `invoice_reminders` (unique per invoice,
step and repeat), its history and its event are written together: all or nothing, and never
twice. A reminder over an e-mail cap waits (no fee, nothing recorded) and is sent once the cap
frees a slot; a failing invoice is recorded on `reminder_retries` and never stops the others.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

import asyncpg

from billing_service.dunning import repositories as repo
from billing_service.dunning.services.steps import (
    Due,
    Sent,
    Step,
    due_reminder,
    extended_due_date,
)
from billing_service.events.services import document_subject
from billing_service.invoices.repositories import invoices as invoice_repo
from billing_service.invoices.repositories import members as members_repo
from billing_service.invoices.repositories.detail import load_detail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services.pricing import MAX_TOTAL, invoice_totals, price_items
from billing_service.invoices.services.records import InvoiceRecords, overdue_reset
from billing_service.invoices.views.mapping import invoice_view
from billing_service.platform.loops import BY_HAND, LoopContext, describe, next_attempt
from shared.errors import RateLimited, ValidationFailed
from shared.logging import get_logger

log = get_logger("billing.reminders")

Outcome = Literal["done", "failed", "deferred", "skipped"]
# Everyone a send of the invoice reaches (invoices.services.actions.InvoiceActions.addressees).
Addressees = Callable[[asyncpg.Connection, Invoice], Awaitable[list[str]]]
# A late fee bears no VAT: compensation for late payment is no supply. Exempt (E) beside the
# invoice's other categories; outside the scope of VAT (O) on an invoice that is, because
# EN 16931 allows no other category beside O (BR-O-11).
FEE_EXEMPTION = "Late payment fee: compensation, not a supply"


class SendQuota(Protocol):
    """The e-mail quotas a send is checked against (mail.services.quota.MailQuota)."""

    async def check_send(
        self, conn: asyncpg.Connection, invoice: Invoice, user_id: int, now: datetime
    ) -> None: ...


@dataclass(frozen=True)
class ReminderLimits:
    max_attempts: int = 5  # a reminder failing this often is set aside
    company_share_per_pass: int = 100  # one company's reminders per pass
    max_per_pass: int = 10_000


@dataclass(frozen=True)
class ReminderRun:
    sent: int
    failed: int
    deferred: int


class Reminders:
    def __init__(
        self,
        records: InvoiceRecords,
        quota: SendQuota,
        addressees: Addressees,
        limits: ReminderLimits | None = None,
    ) -> None:
        self.records = records
        self.pool = records.pool
        self.quota = quota
        self.addressees = addressees
        self.limits = limits or ReminderLimits()

    async def run_once(
        self, now: datetime, dates: dict[str, date], loop: LoopContext = BY_HAND
    ) -> ReminderRun:
        """Every invoice due for a reminder on its company's date (`dates`: timezone -> today),
        each once per pass, each company at most its share."""
        skip_rows: list[int] = []
        by_company: collections.Counter[int] = collections.Counter()
        skip_companies: list[int] = []
        outcomes: collections.Counter[Outcome] = collections.Counter()
        while outcomes.total() < self.limits.max_per_pass and not loop.stop_requested():
            async with self.pool.acquire() as conn, conn.transaction():
                due = await repo.next_due(conn, dates, now, skip_rows, skip_companies)
                if due is None:
                    break
                outcome = await self._handle(conn, due, now)
            if outcome != "skipped":
                loop.count_row(outcome)
            outcomes[outcome] += 1
            skip_rows.append(due.id)
            by_company[due.company_id] += 1
            if by_company[due.company_id] >= self.limits.company_share_per_pass:
                skip_companies.append(due.company_id)
        return ReminderRun(outcomes["done"], outcomes["failed"], outcomes["deferred"])

    async def scheduler_step(
        self, now: datetime, dates: dict[str, date], loop: LoopContext
    ) -> tuple[int, int]:
        """The step the scheduler runs after its own (scheduling.services.scheduler)."""
        run = await self.run_once(now, dates, loop)
        return run.sent, run.failed

    async def _handle(
        self, conn: asyncpg.Connection, due: repo.DueInvoice, now: datetime
    ) -> Outcome:
        try:
            async with conn.transaction():  # a savepoint: a failure keeps the row lock
                return await self._remind(conn, due, now)
        except Exception as error:
            await self._failed(conn, due, now, error)
            return "failed"

    async def _remind(
        self, conn: asyncpg.Connection, due: repo.DueInvoice, now: datetime
    ) -> Outcome:
        invoice = await invoice_repo.by_id(conn, due.id)
        config = await repo.settings(conn, invoice.company_id)
        steps = [Step.from_stored(step) for step in config.steps]
        last = await repo.last_sent(conn, invoice.id)
        sent = Sent(last.step, last.repeat, last.sent_on) if last else None
        assert invoice.due_date is not None  # the query takes only invoices with one
        wanted = due_reminder(steps, invoice.due_date, due.today, sent)
        if wanted is None or not config.enabled:
            return "skipped"  # another replica sent it since this pass chose the invoice
        try:
            await self.quota.check_send(conn, invoice, invoice.created_by, now)
        except RateLimited as limited:
            wait = int((limited.headers or {}).get("Retry-After", "60"))
            await repo.wait_until(conn, invoice.id, now + timedelta(seconds=wait))
            log.info("reminder_waits_for_email_cap", invoice_id=invoice.id, seconds=wait)
            return "deferred"
        await self._send(conn, invoice, wanted, wanted.of(steps), due.today, now)
        return "done"

    async def _send(
        self,
        conn: asyncpg.Connection,
        invoice: Invoice,
        wanted: Due,
        step: Step,
        today: date,
        now: datetime,
    ) -> None:
        addresses = await self.addressees(conn, invoice)
        changes, fee = await self._fee(conn, invoice, step, wanted)
        if step.extend_due_days is not None:
            assert invoice.due_date is not None
            new_due = extended_due_date(step, invoice.due_date, today)
            changes |= {"due_date": new_due} | overdue_reset(invoice, {"due_date": new_due})
        updated = await invoice_repo.update(conn, invoice.id, changes) if changes else invoice
        await members_repo.queue_emails(
            conn, updated, step.template, addresses, None, invoice.created_by, now
        )
        reminder = repo.Reminder(
            invoice.id,
            invoice.company_id,
            wanted.step,
            wanted.repeat,
            step.template,
            today,
            len(addresses),
            fee,
            invoice.due_date,
            updated.due_date,
        )
        await repo.record_sent(conn, reminder, now)
        await repo.clear_retry(conn, invoice.id)
        await self._history(conn, invoice, reminder)
        await self._announce(conn, updated, reminder)

    async def _fee(
        self, conn: asyncpg.Connection, invoice: Invoice, step: Step, wanted: Due
    ) -> tuple[dict[str, Any], Decimal | None]:
        """The step's late fee as a new line and the totals it makes (once per step: never on
        a repeat); nothing without a fee, or a fee that rounds to nothing. A fee that would
        take the invoice past the largest total an invoice may have is left out, with a
        history entry saying so: the reminder still goes (it is never set aside for it)."""
        if step.late_fee is None or wanted.repeat > 0:
            return {}, None
        currency = invoice.currency.strip()
        fee = step.late_fee.on(invoice.balance_due, currency)
        if fee <= 0:
            return {}, None
        items = await invoice_repo.items(conn, invoice.id)
        outside = any(item["vat_category"] == "O" for item in items)
        line = {
            "label": f"Late fee (reminder {wanted.step})",
            "quantity": Decimal(1),
            "price": fee,
            "tax_percentage": Decimal(0),
            "vat_category": "O" if outside else "E",
            "vat_exemption_reason": None if outside else FEE_EXEMPTION,
        }
        [priced] = price_items([line], currency, Decimal(0))
        try:
            totals = invoice_totals([*items, priced])
        except ValidationFailed:  # past MAX_TOTAL, the only refusal of invoice_totals
            entry = f"late_fee_left_out:{fee} (the total would pass the maximum, {MAX_TOTAL:f})"
            status = invoice.status
            await invoice_repo.add_history(conn, invoice.id, None, entry, status, status)
            log.info("late_fee_left_out", invoice_id=invoice.id, fee=str(fee))
            return {}, None
        priced["position"] = await repo.next_item_position(conn, invoice.id)
        await invoice_repo.insert_items(conn, invoice.id, [priced])
        return totals, fee

    async def _history(
        self, conn: asyncpg.Connection, invoice: Invoice, reminder: repo.Reminder
    ) -> None:
        """reminder_sent:<step> (.<repeat> for a repeat), and the fee and due date it set."""
        status = invoice.status
        repeat = f".{reminder.repeat}" if reminder.repeat else ""
        entries = [f"reminder_sent:{reminder.step}{repeat}"]
        if reminder.late_fee is not None:
            entries.append(f"late_fee_added:{reminder.late_fee}")
        if reminder.due_after != reminder.due_before:
            entries.append(f"due_date_extended:{reminder.due_after}")
        for entry in entries:
            await invoice_repo.add_history(conn, invoice.id, None, entry, status, status)

    async def _announce(
        self, conn: asyncpg.Connection, invoice: Invoice, reminder: repo.Reminder
    ) -> None:
        """invoice.reminder_sent: the invoice as a member sees it now (its fee and due date
        included), and which reminder went to how many addresses."""
        detail = await load_detail(conn, invoice)
        view = invoice_view(detail.invoice, self.records.events.public_base_url, detail=detail)
        data = view.model_dump(by_alias=True) | {
            "reminder": {
                "step": reminder.step,
                "repeat": reminder.repeat,
                "template": reminder.template,
                "addresses": reminder.addresses,
                "late_fee": reminder.late_fee,
            }
        }
        await self.records.events.record(
            conn,
            invoice.company_id,
            "invoice.reminder_sent",
            data,
            subject=document_subject(invoice.id),
        )

    async def _failed(
        self, conn: asyncpg.Connection, due: repo.DueInvoice, now: datetime, error: Exception
    ) -> None:
        """Recorded on the invoice's retry row; after the last attempt set aside, with a
        history entry saying why."""
        attempts, reason = await repo.attempts(conn, due.id) + 1, describe(error)
        retry_at = next_attempt(attempts, self.limits.max_attempts, now)
        failed_at = now if retry_at is None else None
        await repo.record_failure(conn, due.id, attempts, reason, retry_at, failed_at)
        if failed_at is not None:
            status = (await invoice_repo.by_id(conn, due.id)).status
            await invoice_repo.add_history(
                conn, due.id, None, f"reminder_failed:{reason}", status, status
            )
        log.warning(
            "reminder_failed",
            invoice_id=due.id,
            attempts=attempts,
            error=reason,
            set_aside=failed_at is not None,
            exc_info=error,
        )
