"""The lifecycle's actions on one record (lifecycle.py says which are allowed from where):
approve, send, pay, cancel, decline, and the dates and period of an issued record."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

import asyncpg
from babel.numbers import get_currency_precision

from billing_service.invoices import lifecycle
from billing_service.invoices.repositories import invoices as repo
from billing_service.invoices.repositories import members as members_repo
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services.records import InvoiceRecords, check_terms, overdue_reset
from billing_service.platform.auth_client import AuthClient
from billing_service.platform.money import quantum, round_money
from billing_service.platform.scope import Scope
from shared.errors import Conflict, ServiceUnavailable, ValidationFailed


class SendQuota(Protocol):
    """The e-mail quotas a send is checked against (mail.services.quota.MailQuota)."""

    async def check_send(
        self, conn: asyncpg.Connection, invoice: Invoice, user_id: int, now: datetime
    ) -> None: ...


class CreditNoteIssuer(Protocol):
    """What approving a credit note does to its invoice and its customer's credit, inside the
    approval's transaction (receivables.services.credit_notes.CreditNotes)."""

    async def issue(self, conn: asyncpg.Connection, scope: Scope, credit_note: Invoice) -> None: ...


# What follows an approval outside its transaction: the PDF rendered (documents' service).
AfterApproval = Callable[[Invoice], Awaitable[None]]


class InvoiceActions:
    """The domains above invoices come in as what they do for an action (a quota, the
    rendering after an approval), so that invoices imports neither mail nor documents."""

    def __init__(
        self,
        records: InvoiceRecords,
        quota: SendQuota,
        after_approval: AfterApproval,
        users: AuthClient | None = None,
        credit_notes: CreditNoteIssuer | None = None,
    ) -> None:
        self.records = records
        self.quota = quota
        self.after_approval = after_approval
        self.users = users  # e-mails of invoice members and contacts (auth-service)
        self.credit_notes = credit_notes  # what issuing a credit note does (receivables)

    async def approve(
        self, scope: Scope, invoice_id: int, approved_at: datetime | None, if_match: str | None
    ) -> InvoiceDetail:
        """Approved, then its PDF rendered (the document the client will be sent)."""

        async def approve(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            return await self.approve_locked(conn, scope, invoice, approved_at)

        approved = await self.records.locked(
            scope, invoice_id, if_match, "update", approve, verb="approved"
        )
        await self.after_approval(approved.invoice)
        return approved

    async def cancel(self, scope: Scope, invoice_id: int, if_match: str | None) -> InvoiceDetail:
        async def cancel(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            kept = invoice.amount_paid + invoice.amount_credited  # credited in part: kept too
            lifecycle.require("cancel", invoice.type, invoice.status, amount_paid=kept)
            stamp = {"cancelled_at": self.records.clock()}
            return await self.records.move(conn, scope.user_id, invoice, "cancelled", stamp)

        return await self.records.locked(
            scope, invoice_id, if_match, "cancel", cancel, verb="cancelled"
        )

    async def decline(self, scope: Scope, invoice_id: int, if_match: str | None) -> InvoiceDetail:
        async def decline(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("decline", invoice.type, invoice.status)
            return await self.records.move(conn, scope.user_id, invoice, "declined", {})

        return await self.records.locked(
            scope, invoice_id, if_match, "update", decline, verb="declined"
        )

    async def pay(
        self,
        scope: Scope,
        invoice_id: int,
        payment: Payment,
        if_match: str | None,
    ) -> InvoiceDetail:
        """The row lock serialises concurrent payments: none is lost, none counted twice, and
        together they never exceed the balance."""

        async def pay(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            return await settle(self.records, conn, scope.user_id, invoice, payment)

        return await self.records.locked(scope, invoice_id, if_match, "pay", pay, verb=paid_verbs)

    async def approve_locked(
        self, conn: asyncpg.Connection, scope: Scope, invoice: Invoice, when: datetime | None
    ) -> Invoice:
        lifecycle.require("approve", invoice.type, invoice.status)
        values = {"approved_at": when or self.records.clock()}
        approved = await self.records.move(conn, scope.user_id, invoice, "approved", values)
        if approved.type == "credit_note":
            if self.credit_notes is None:
                raise ServiceUnavailable("Credit notes are not configured.")
            await self.credit_notes.issue(conn, scope, approved)
        return approved

    async def send(
        self,
        scope: Scope,
        invoice_id: int,
        template: str,
        custom_message: str | None,
        if_match: str | None,
    ) -> list[str]:
        """Queue an e-mail to each addressee in the outbox (the mailer delivers them) and move
        the status; the addresses it went to."""
        addresses: list[str] = []

        async def send(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("send", invoice.type, invoice.status)
            addresses.extend(await self.addressees(conn, invoice))
            now = self.records.clock()
            # One send, however many addressees.
            await self.quota.check_send(conn, invoice, scope.user_id, now)
            await members_repo.queue_emails(
                conn, invoice, template, addresses, custom_message, scope.user_id, now
            )
            event = f"email_queued:{template}"
            await repo.add_history(
                conn, invoice.id, scope.user_id, event, invoice.status, invoice.status
            )
            target = lifecycle.status_after_send(invoice.type, invoice.status, template)
            if target != invoice.status:
                return await self.records.move(
                    conn, scope.user_id, invoice, target, {"sent_at": now}
                )
            return invoice

        await self.records.locked(scope, invoice_id, if_match, "send", send, verb="sent")
        return addresses

    async def payment_link(self, scope: Scope, invoice_id: int) -> None:
        await self.records.find(self.records.pool, scope, invoice_id, "send")
        raise Conflict(
            "No payment provider is configured for this installation.",
            error_code="PAYMENT_PROVIDER_NOT_CONFIGURED",
        )

    async def set_schedule_date(
        self, scope: Scope, invoice_id: int, scheduled: date, due_now: bool, if_match: str | None
    ) -> InvoiceDetail:
        async def reschedule(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("set_schedule_date", invoice.type, invoice.status)
            if invoice.due_date is not None and invoice.due_date < scheduled:
                raise ValidationFailed.field(
                    "scheduled_date", "The scheduled date must not be after the due date."
                )
            check_terms(scheduled, invoice.due_date, "scheduled_date")
            target = "due" if due_now else "scheduled"
            values = {"scheduled_date": scheduled}
            return await self.records.move(conn, scope.user_id, invoice, target, values)

        return await self.records.locked(
            scope, invoice_id, if_match, "update", reschedule, verb="updated"
        )

    async def set_due_date(
        self, scope: Scope, invoice_id: int, due: date, if_match: str | None
    ) -> InvoiceDetail:
        async def change(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("set_due_date", invoice.type, invoice.status)
            if due < invoice.scheduled_date:
                raise ValidationFailed.field(
                    "due_date", "The due date must be on or after the scheduled date."
                )
            check_terms(invoice.scheduled_date, due, "due_date")
            values = {"due_date": due} | overdue_reset(invoice, {"due_date": due})
            return await _edited(conn, scope, invoice, "due_date_set", values)

        return await self.records.locked(
            scope, invoice_id, if_match, "update", change, verb="updated"
        )

    async def set_period(
        self, scope: Scope, invoice_id: int, period: str, if_match: str | None
    ) -> InvoiceDetail:
        async def change(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("set_period", invoice.type, invoice.status)
            return await _edited(conn, scope, invoice, "period_set", {"period": period})

        return await self.records.locked(
            scope, invoice_id, if_match, "update", change, verb="updated"
        )

    async def addressees(self, conn: asyncpg.Connection, invoice: Invoice) -> list[str]:
        """Everyone an invoice's e-mail goes to (a send's, an automatic reminder's), each
        address once: the recipient's e-mail,
        the invoice members with `receive_invoice` (still in its company) and the recipient's
        client-portal contacts. 422 when nobody is left."""
        recipient = None
        if invoice.invoice_recipient_id is not None:
            recipient = await repo.owned_by_company(
                conn, "recipients", invoice.invoice_recipient_id, invoice.company_id
            )
        user_ids = await members_repo.receiving_users(conn, invoice)
        found = [(recipient or {}).get("email")] + await self._user_emails(user_ids)
        unique: dict[str, str] = {}
        for address in found:
            if address and address.strip():
                unique.setdefault(address.strip().lower(), address.strip())
        if not unique:
            raise ValidationFailed.field(
                "recipient",
                "Nobody to send to: the recipient has no e-mail address, no invoice member "
                "receives the invoice and the recipient has no client-portal contacts.",
            )
        return list(unique.values())

    async def _user_emails(self, user_ids: list[int]) -> list[str]:
        """Members and contacts are users of auth-service, which keeps their e-mails; a user
        deleted there receives nothing."""
        if not user_ids:
            return []
        if self.users is None:
            raise ServiceUnavailable("The user directory is not configured.")
        users = await self.users.find_by_ids(user_ids)
        return [users[user_id].email for user_id in user_ids if user_id in users]


@dataclass(frozen=True)
class Payment:
    """A payment as /pay records it."""

    amount: Decimal
    paid_date: date | None = None  # None: today, in the company's timezone
    reference: str | None = None
    method: str | None = None


def paid_verbs(invoice: Invoice) -> tuple[str, ...]:
    """A payment's events: recorded, and paid too when it settled the balance."""
    return ("payment_recorded", "paid") if invoice.status == "paid" else ("payment_recorded",)


async def settle(
    records: InvoiceRecords,
    conn: asyncpg.Connection,
    user_id: int,
    invoice: Invoice,
    payment: Payment,
    received_payment_id: int | None = None,
) -> Invoice:
    """A payment on the locked invoice (/pay, an allocation of a received payment, credit
    applied): recorded, the balance lowered, and paid when it settles it."""
    lifecycle.require("pay", invoice.type, invoice.status, balance_due=invoice.balance_due)
    check_amount(invoice, payment.amount)
    day = payment.paid_date or await records.today(conn, invoice.company_id)
    await repo.insert_payment(
        conn,
        invoice,
        payment.amount,
        day,
        payment.reference,
        payment.method,
        user_id,
        received_payment_id,
    )
    values: dict[str, Any] = {"amount_paid": invoice.amount_paid + payment.amount}
    if payment.amount == invoice.balance_due:
        values["paid_at"] = records.clock()
        return await records.move(conn, user_id, invoice, "paid", values)
    await repo.add_history(conn, invoice.id, user_id, "payment", invoice.status, invoice.status)
    return await repo.update(conn, invoice.id, values)


def check_amount(invoice: Invoice, amount: Decimal, limit: Decimal | None = None) -> None:
    """In the invoice currency's minor units, and no more than the balance due (or the
    `limit` a refund names: what was paid)."""
    currency = invoice.currency.strip()
    if amount != round_money(amount, currency):
        places = get_currency_precision(currency)
        raise ValidationFailed.field(
            "amount", f"The amount field must have at most {places} decimal places."
        )
    most, what = (invoice.balance_due, "the balance due") if limit is None else (limit, "paid")
    if amount > most:
        shown = most.quantize(quantum(currency))
        raise ValidationFailed.field(
            "amount", f"The amount must not be greater than {what} ({shown})."
        )


async def _edited(
    conn: asyncpg.Connection, scope: Scope, invoice: Invoice, event: str, values: dict[str, Any]
) -> Invoice:
    """`values` set on the record, its status kept, with a history entry `event`."""
    await repo.add_history(conn, invoice.id, scope.user_id, event, invoice.status, invoice.status)
    return await repo.update(conn, invoice.id, values)
