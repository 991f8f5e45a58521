"""Invoices of every type: creation, edits, the lifecycle, payments, e-mails, conversion."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from babel.numbers import get_currency_precision

from billing_service import lifecycle
from billing_service.auth_client import AuthClient
from billing_service.money import (
    LineAmounts,
    LineInput,
    line_amounts,
    quantum,
    round_money,
    totals,
)
from billing_service.permissions import (
    authorize_document,
    document_resource,
    reads_without_ability,
)
from billing_service.recurrence import company_today
from billing_service.repositories import invoices as repo
from billing_service.repositories.crud import Row
from billing_service.repositories.invoices import Invoice, ListedInvoice
from billing_service.repositories.sql import Conditions
from billing_service.scope import Scope
from billing_service.services import invoice_parties
from billing_service.services.base import (
    COUNT_CAP,
    named,
    refuse_reference,
    resolve_company,
)
from billing_service.services.companies import PersonalTeams
from billing_service.services.mail_quota import MailQuota
from billing_service.settings import Settings
from shared.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
    ValidationFailed,
)
from shared.pagination import PageParams, decode_cursor, encode_cursor

PREFIXES = {"invoice": "INV", "quote": "QUO", "recurring": "REC", "template": "TPL"}
MAX_TOTAL = Decimal("1e13")  # far inside numeric(18, 4), so sums never overflow
MAX_PAYMENT_TERMS = timedelta(days=3660)  # ten years: longer is a typo, not a contract
Clock = Callable[[], datetime]  # the current instant, timezone-aware; injected so tests move time


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class InvoiceDetail:
    invoice: Invoice
    items: list[Row]
    payments: list[Row]
    history: list[Row]
    members: list[Row]
    invoicer: Row | None
    recipient: Row | None
    payment_detail: Row | None


@dataclass(frozen=True)
class ListQuery:
    params: PageParams
    status: str | None = None
    statuses: list[str] | None = None  # any of these (a client-portal word stands for several)
    type: str | None = None
    search: str | None = None
    company_id: int | None = None
    recipient_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "-id"
    cursor: str | None = None


@dataclass(frozen=True)
class InvoicePage:
    items: list[ListedInvoice]
    total: int
    params: PageParams
    next_cursor: str | None
    total_capped: bool


@dataclass
class Draft:
    """A create or an update, as validated by the handler (API names already resolved)."""

    fields: dict[str, Any]
    items: list[dict[str, Any]] | None = None
    members: list[dict[str, Any]] | None = None
    company_id: int | None = None
    status: str | None = None
    paid_at: date | None = None  # a record imported as paid: the day it was
    extra: dict[str, Any] = field(default_factory=dict)


# The operation (permissions.DOCUMENT_OPERATIONS) each lifecycle action needs, as its route
# checks it: a record imported in a status needs those of the actions that lead there.
ACTION_OPERATIONS = {
    "approve": "update",
    "send": "send",
    "pay": "pay",
    "cancel": "cancel",
    "decline": "update",
}
# The timestamp each imported status sets (paid sets paid_at from the import's own date).
IMPORT_STAMPS = {"approved": "approved_at", "sent": "sent_at", "cancelled": "cancelled_at"}

# Sorts clients may ask for: API name -> (column, its SQL type for keyset cursors).
SORTS: dict[str, tuple[str, str | None]] = {
    "id": ("id", "bigint"),
    "created_at": ("created_at", "timestamptz"),
    "scheduled_date": ("scheduled_date", "date"),
    "issue_date": ("scheduled_date", "date"),
    "total": ("total", "numeric"),
    "label": ("label", "text"),
    "invoice_number": ("label", "text"),
    "due_date": ("due_date", None),  # nullable: no cursor
}


def etag(invoice: Invoice) -> str:
    return f'"{invoice.id}.{invoice.version}"'


def check_if_match(invoice: Invoice, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    wanted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if etag(invoice) not in wanted:
        raise PreconditionFailed()


class InvoiceService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock = utc_now,
        quota: MailQuota | None = None,
        users: AuthClient | None = None,
        *,
        personal: PersonalTeams | None = None,
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.quota = quota or MailQuota.from_settings(Settings())
        self.users = users  # e-mails of invoice members and contacts (auth-service)
        # A create without a company may make the member's team (named without the user
        # directory when none is given: the scheduler's instances create no teams).
        self.personal = personal or PersonalTeams(None)

    async def today(self, db: Any, company_id: int) -> date:
        """Today in the company's timezone: the default issue and payment date."""
        return company_today(self.clock(), await repo.company_timezone(db, company_id))

    # --- reading ----------------------------------------------------------------------

    def _scope_where(self, scope: Scope) -> Conditions:
        if scope.is_client:
            recipient = scope.client.recipient_id if scope.client else None
            return repo.client_conditions(recipient, self.clock())
        return repo.member_conditions(scope.company_ids)

    async def find(
        self,
        db: Any,
        scope: Scope,
        invoice_id: int,
        operation: str,
        *,
        kind: str | None = None,
        lock: bool = False,
    ) -> Invoice:
        """The record, if the caller may see it (404 otherwise) and may do `operation` on it:
        the token's ability for the record's type and the role in the record's company."""
        invoice = await repo.one(db, invoice_id, self._scope_where(scope), lock=lock)
        if invoice is None or (kind is not None and invoice.type != kind):
            raise NotFound("Invoice not found.")
        authorize_document(scope, invoice.type, invoice.company_id, operation)
        return invoice

    async def detail(
        self, scope: Scope, invoice_id: int, *, kind: str | None = None
    ) -> InvoiceDetail:
        invoice = await self.find(self.pool, scope, invoice_id, "read", kind=kind)
        return await self.detail_of(self.pool, invoice, internal=not scope.is_client)

    async def detail_of(self, db: Any, invoice: Invoice, *, internal: bool = True) -> InvoiceDetail:
        async def related(table: str, row_id: int | None) -> Row | None:
            if row_id is None:
                return None
            return await repo.owned_by_company(db, table, row_id, invoice.company_id)

        return InvoiceDetail(
            invoice,
            await repo.items(db, invoice.id),
            await repo.payments(db, invoice.id),
            await repo.history(db, invoice.id) if internal else [],
            await repo.members(db, invoice.id) if internal else [],
            await related("invoicers", invoice.invoicer_id),
            await related("recipients", invoice.invoice_recipient_id),
            await related("payment_details", invoice.invoicer_payment_detail_id),
        )

    async def list_page(self, scope: Scope, query: ListQuery) -> InvoicePage:
        await self._check_named_filters(scope, query)
        where = self._scope_where(scope)
        needs_recipient = self._filters(where, scope, query)
        column, sql_type = SORTS.get(query.sort.lstrip("-"), SORTS["id"])
        descending = query.sort.startswith("-")
        direction = "DESC" if descending else "ASC"
        order = f"i.{column} {direction}, i.id {direction}"
        count_where = Conditions(list(where.parts), list(where.params))
        offset = query.params.offset
        if query.cursor is not None:
            if sql_type is None:
                raise BadRequest(
                    "A cursor needs a sort by id, created_at, issue_date, total or label."
                )
            value, last_id = decode_cursor(query.cursor, sql_type)
            comparison = "<" if descending else ">"
            where.add(
                f"(i.{column}, i.id) {comparison} ({{}}::{sql_type}, {{}}::bigint)", value, last_id
            )
            offset = 0
        rows = await repo.page(
            self.pool, where, order=order, limit=query.params.per_page, offset=offset
        )
        total, capped = await self._total(scope, query, count_where, needs_recipient)
        next_cursor = None
        if sql_type is not None and len(rows) == query.params.per_page:
            last = rows[-1].invoice
            next_cursor = encode_cursor(getattr(last, column), last.id)
        return InvoicePage(rows, total, query.params, next_cursor, capped)

    async def _check_named_filters(self, scope: Scope, query: ListQuery) -> None:
        """`?company_id=` and `?invoice_recipient_id=` name records: another tenant's is 403,
        an id that exists nowhere 422 (base.named). A client's list is bounded by its
        recipient whatever it names."""
        if scope.is_client:
            return
        if query.company_id is not None:
            await named(self.pool, scope, "companies", query.company_id, "company_id")
        if query.recipient_id is not None:
            await named(self.pool, scope, "recipients", query.recipient_id, "invoice_recipient_id")

    async def _total(
        self, scope: Scope, query: ListQuery, where: Conditions, needs_recipient: bool
    ) -> tuple[int, bool]:
        """Exact from the kept counts when only company, type and status filter the list;
        otherwise counted up to COUNT_CAP (meta.total_capped says when the cap was hit)."""
        simple = (
            not scope.is_client
            and query.statuses is None
            and query.status != "overdue"
            and not query.search
            and query.recipient_id is None
            and query.date_from is None
            and query.date_to is None
        )
        if simple:
            companies = [query.company_id] if query.company_id is not None else scope.company_ids
            types = readable_types(scope, query.type)
            return await repo.counted(self.pool, companies, types, query.status), False
        total = await repo.count(self.pool, where, COUNT_CAP, needs_recipient=needs_recipient)
        return total, total >= COUNT_CAP

    def _filters(self, where: Conditions, scope: Scope, query: ListQuery) -> bool:
        if query.company_id is not None:
            where.add("i.company_id = {}", scope.company(query.company_id))
        types = readable_types(scope, query.type)
        if types is not None:
            where.add("i.type = ANY({})", types)
        if query.status == "overdue":
            where.add("i.status IN ('sent', 'due')")
            # Overdue is judged by each company's own date.
            where.add(
                "i.due_date < (SELECT ({}::timestamptz AT TIME ZONE c.timezone)::date "
                "FROM companies c WHERE c.id = i.company_id)",
                self.clock(),
            )
            where.add("i.total > i.amount_paid")
        elif query.status is not None:
            where.add("i.status = {}", query.status)
        if query.statuses is not None:
            where.add("i.status = ANY({})", query.statuses)
        if query.recipient_id is not None:
            where.add("i.invoice_recipient_id = {}", query.recipient_id)
        if query.date_from is not None:
            where.add("i.scheduled_date >= {}", query.date_from)
        if query.date_to is not None:
            where.add("i.scheduled_date <= {}", query.date_to)
        if query.search:
            escaped = query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.add("(i.label ILIKE {0} OR r.company_entity ILIKE {0})", f"%{escaped}%")
            return True
        return False

    # --- creating and editing -------------------------------------------------------------

    async def create(self, scope: Scope, draft: Draft) -> Invoice:
        """A new record, in draft unless `status` says otherwise: scheduled, or a later
        status for a record imported from another system (`_imported`)."""
        kind = draft.fields.get("type", "invoice")
        status = draft.status or "draft"
        steps = lifecycle.import_path(kind, status)
        if draft.paid_at is not None and status != "paid":
            raise ValidationFailed.field(
                "paid_at", "The paid at field is only for a record created as paid."
            )
        with _label_unique():
            return await self._create(scope, draft, kind, status, steps)

    async def _create(
        self, scope: Scope, draft: Draft, kind: str, status: str, steps: tuple[str, ...]
    ) -> Invoice:
        async with self.pool.acquire() as conn, conn.transaction():
            company = await self._company_for(conn, scope, draft)
            authorize_document(scope, kind, company, "create")
            _authorize_import(scope, kind, company, steps)
            refs = await self._references(conn, scope, company, draft.fields)
            await invoice_parties.require_live_recipient(conn, draft.fields, refs)
            fields = await invoice_parties.with_defaults(conn, company, draft.fields, refs)
            values = self._defaults(fields, kind, await self.today(conn, company))
            self._check_dates(values)
            items = await self._priced_items(conn, scope, company, draft.items or [], values, refs)
            if draft.members is not None:
                await self._check_members(conn, company, draft.members)
            if values.get("invoice_parent_id") is not None:
                # Wait for a writer of the parent now, not while holding the numbers: writers
                # lock their invoice first and the numbers second, so this order never deadlocks.
                await repo.lock_parent(conn, values["invoice_parent_id"])
            if values.get("label"):
                await repo.lock_numbers(conn, company)
            else:
                number = await repo.next_number(conn, company, PREFIXES[kind])
                values["label"] = repo.number_label(PREFIXES[kind], number)
            invoice = await repo.insert(
                conn,
                values
                | self._totals(items, values["currency"])
                | {
                    "company_id": company,
                    "public_id": secrets.token_urlsafe(16),
                    "type": kind,
                    "status": "draft" if steps else status,
                    "created_by": scope.user_id,
                }
                | draft.extra,
            )
            await repo.insert_items(conn, invoice.id, items)
            if draft.members is not None:
                await repo.replace_members(conn, invoice.id, draft.members)
            await repo.add_history(conn, invoice.id, scope.user_id, "created", None, invoice.status)
            if steps:
                invoice = await self._imported(conn, scope, invoice, status, draft.paid_at)
            return invoice

    async def _imported(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        invoice: Invoice,
        status: str,
        paid_at: date | None,
    ) -> Invoice:
        """A record created in a later status, imported from another system: the status and
        its timestamp set as its transitions would set them, but no e-mail goes out; `paid`
        also records a payment of the total. One history entry says it was imported."""
        values: dict[str, Any] = {"status": status}
        if status in IMPORT_STAMPS:
            values[IMPORT_STAMPS[status]] = datetime.now(UTC)
        if status == "paid":
            values |= await self._imported_payment(conn, scope, invoice, paid_at)
        await repo.add_history(conn, invoice.id, scope.user_id, "imported", invoice.status, status)
        return await repo.update(conn, invoice.id, values)

    @staticmethod
    async def _imported_payment(
        conn: asyncpg.Connection, scope: Scope, invoice: Invoice, paid_at: date | None
    ) -> dict[str, Any]:
        """The payment of the whole total, dated `paid_at`, by default the issue date."""
        day = paid_at or invoice.scheduled_date
        if invoice.total > 0:  # a free invoice is paid with nothing to record
            await repo.insert_payment(conn, invoice, invoice.total, day, None, None, scope.user_id)
        return {"amount_paid": invoice.total, "paid_at": datetime.combine(day, time(), UTC)}

    async def update(
        self,
        scope: Scope,
        invoice_id: int,
        draft: Draft,
        if_match: str | None,
        *,
        kind: str | None = None,
    ) -> Invoice:
        async def change(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("update", invoice.type, invoice.status)
            if "type" in draft.fields and draft.fields["type"] != invoice.type:
                raise ValidationFailed.field("type", "Use /convert to change the type.")
            fields = {key: value for key, value in draft.fields.items() if key != "type"}
            if draft.company_id is not None:  # repeated by a client: must be the record's own
                await self._same_company(conn, scope, draft.company_id, invoice.company_id)
            if fields.get("invoice_parent_id") == invoice.id:
                raise ValidationFailed.field(
                    "invoice_parent_id", "An invoice cannot be its own parent."
                )
            if "label" in fields:
                await repo.lock_numbers(conn, invoice.company_id)
            refs = await self._references(conn, scope, invoice.company_id, fields, current=invoice)
            await invoice_parties.require_live_recipient(conn, fields, refs)
            values = {name: getattr(invoice, name) for name in repo.EDITABLE} | fields
            values["currency"] = values["currency"].strip()
            self._check_dates(values)
            if draft.items is not None:
                items = await self._priced_items(
                    conn, scope, invoice.company_id, draft.items, values, refs
                )
                await repo.replace_items(conn, invoice.id, items)
                fields |= self._totals(items, values["currency"])
            elif "currency" in fields and fields["currency"] != invoice.currency.strip():
                raise ValidationFailed.field(
                    "currency", "Send the items again to change the currency."
                )
            if draft.members is not None:
                await self._check_members(conn, invoice.company_id, draft.members)
                await repo.replace_members(conn, invoice.id, draft.members)
            # An edit may have fixed what made the scheduler set the invoice aside: retry it.
            updated = await repo.update(conn, invoice.id, fields | repo.SCHEDULER_CLEARED)
            await repo.add_history(
                conn, invoice.id, scope.user_id, "updated", invoice.status, invoice.status
            )
            return updated

        with _label_unique():
            return await self._locked(scope, invoice_id, if_match, "update", change, kind=kind)

    async def delete(
        self, scope: Scope, invoice_id: int, if_match: str | None, *, kind: str | None = None
    ) -> None:
        async def remove(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            if not lifecycle.can_delete(invoice.status, invoice.amount_paid):
                raise Conflict("Paid invoices and invoices with payments cannot be deleted.")
            updated = await repo.update(conn, invoice.id, {"deleted_at": datetime.now(UTC)})
            await repo.add_history(
                conn, invoice.id, scope.user_id, "deleted", invoice.status, invoice.status
            )
            return updated

        await self._locked(scope, invoice_id, if_match, "delete", remove, kind=kind)

    async def set_members(
        self, scope: Scope, invoice_id: int, members: list[dict[str, Any]]
    ) -> list[Row]:
        async def change(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            await self._check_members(conn, invoice.company_id, members)
            await repo.replace_members(conn, invoice.id, members)
            return await repo.update(conn, invoice.id, {})

        invoice = await self._locked(scope, invoice_id, None, "update", change)
        return await repo.members(self.pool, invoice.id)

    # --- the lifecycle --------------------------------------------------------------------

    async def approve(
        self, scope: Scope, invoice_id: int, approved_at: datetime | None, if_match: str | None
    ) -> Invoice:
        async def approve(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("approve", invoice.type, invoice.status)
            when = approved_at or datetime.now(UTC)
            return await self._move(conn, scope, invoice, "approved", {"approved_at": when})

        return await self._locked(scope, invoice_id, if_match, "update", approve)

    async def cancel(self, scope: Scope, invoice_id: int, if_match: str | None) -> Invoice:
        async def cancel(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require(
                "cancel", invoice.type, invoice.status, amount_paid=invoice.amount_paid
            )
            return await self._move(
                conn, scope, invoice, "cancelled", {"cancelled_at": datetime.now(UTC)}
            )

        return await self._locked(scope, invoice_id, if_match, "cancel", cancel)

    async def decline(
        self, scope: Scope, invoice_id: int, if_match: str | None, *, kind: str | None = None
    ) -> Invoice:
        async def decline(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("decline", invoice.type, invoice.status)
            return await self._move(conn, scope, invoice, "declined", {})

        return await self._locked(scope, invoice_id, if_match, "update", decline, kind=kind)

    async def pay(
        self,
        scope: Scope,
        invoice_id: int,
        amount: Decimal,
        paid_date: date | None,
        reference: str | None,
        method: str | None,
        if_match: str | None,
    ) -> Invoice:
        """The row lock serialises concurrent payments: none is lost, none counted twice, and
        together they never exceed the balance."""

        async def pay(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("pay", invoice.type, invoice.status, balance_due=invoice.balance_due)
            currency = invoice.currency.strip()
            if amount != round_money(amount, currency):
                raise ValidationFailed.field(
                    "amount",
                    f"The amount field must have at most {get_currency_precision(currency)} decimal places.",
                )
            if amount > invoice.balance_due:
                raise ValidationFailed.field(
                    "amount",
                    f"The amount must not be greater than the balance due ({invoice.balance_due.quantize(quantum(currency))}).",
                )
            await repo.insert_payment(
                conn,
                invoice,
                amount,
                paid_date or await self.today(conn, invoice.company_id),
                reference,
                method,
                scope.user_id,
            )
            paid = invoice.amount_paid + amount
            values: dict[str, Any] = {"amount_paid": paid}
            if paid == invoice.total:
                return await self._move(
                    conn, scope, invoice, "paid", values | {"paid_at": datetime.now(UTC)}
                )
            await repo.add_history(
                conn, invoice.id, scope.user_id, "payment", invoice.status, invoice.status
            )
            return await repo.update(conn, invoice.id, values)

        return await self._locked(scope, invoice_id, if_match, "pay", pay)

    async def send(
        self,
        scope: Scope,
        invoice_id: int,
        template: str,
        custom_message: str | None,
        if_match: str | None,
        *,
        kind: str | None = None,
    ) -> tuple[Invoice, list[str]]:
        """Queue an e-mail to each addressee in the outbox (the mailer delivers them) and move
        the status; the addresses it went to."""
        addresses: list[str] = []

        async def send(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("send", invoice.type, invoice.status)
            addresses.extend(await self._addressees(conn, invoice))
            now = self.clock()
            # One send, however many addressees.
            await self.quota.check_send(conn, invoice, scope.user_id, now)
            await repo.queue_emails(
                conn, invoice, template, addresses, custom_message, scope.user_id, now
            )
            await repo.add_history(
                conn,
                invoice.id,
                scope.user_id,
                f"email_queued:{template}",
                invoice.status,
                invoice.status,
            )
            target = lifecycle.status_after_send(invoice.type, invoice.status, template)
            if target != invoice.status:
                return await self._move(
                    conn, scope, invoice, target, {"sent_at": datetime.now(UTC)}
                )
            return invoice

        invoice = await self._locked(scope, invoice_id, if_match, "send", send, kind=kind)
        return invoice, addresses

    async def _addressees(self, conn: asyncpg.Connection, invoice: Invoice) -> list[str]:
        """Everyone an invoice's e-mail goes to, each address once: the recipient's e-mail,
        the invoice members with `receive_invoice` (still in its company) and the recipient's
        client-portal contacts. 422 when nobody is left."""
        recipient = await self._recipient(conn, invoice)
        user_ids = await repo.receiving_users(conn, invoice)
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

    async def set_schedule_date(
        self, scope: Scope, invoice_id: int, scheduled: date, due_now: bool, if_match: str | None
    ) -> Invoice:
        async def reschedule(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("set_schedule_date", invoice.type, invoice.status)
            if invoice.due_date is not None and invoice.due_date < scheduled:
                raise ValidationFailed.field(
                    "scheduled_date", "The scheduled date must not be after the due date."
                )
            _check_terms(scheduled, invoice.due_date, "scheduled_date")
            target = "due" if due_now else "scheduled"
            return await self._move(conn, scope, invoice, target, {"scheduled_date": scheduled})

        return await self._locked(scope, invoice_id, if_match, "update", reschedule)

    async def set_due_date(
        self, scope: Scope, invoice_id: int, due: date, if_match: str | None
    ) -> Invoice:
        async def change(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("set_due_date", invoice.type, invoice.status)
            if due < invoice.scheduled_date:
                raise ValidationFailed.field(
                    "due_date", "The due date must be on or after the scheduled date."
                )
            _check_terms(invoice.scheduled_date, due, "due_date")
            await repo.add_history(
                conn, invoice.id, scope.user_id, "due_date_set", invoice.status, invoice.status
            )
            return await repo.update(conn, invoice.id, {"due_date": due})

        return await self._locked(scope, invoice_id, if_match, "update", change)

    async def set_period(
        self, scope: Scope, invoice_id: int, period: str, if_match: str | None
    ) -> Invoice:
        async def change(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            lifecycle.require("set_period", invoice.type, invoice.status)
            await repo.add_history(
                conn, invoice.id, scope.user_id, "period_set", invoice.status, invoice.status
            )
            return await repo.update(conn, invoice.id, {"period": period})

        return await self._locked(scope, invoice_id, if_match, "update", change)

    async def convert(
        self,
        scope: Scope,
        invoice_id: int,
        target: str,
        options: dict[str, Any],
        *,
        kind: str | None = None,
    ) -> Invoice:
        """A new record of another type with the items copied; the source is untouched, except
        that a quote turned into an invoice becomes `converted`."""
        async with self.pool.acquire() as conn, conn.transaction():
            source = await self.find(conn, scope, invoice_id, "read", kind=kind, lock=True)
            authorize_document(scope, target, source.company_id, "create")
            if source.type == "quote" and target == "invoice":  # the quote becomes converted
                authorize_document(scope, source.type, source.company_id, "update")
            lifecycle.require("convert", source.type, source.status)
            await invoice_parties.require_live_source(conn, source.invoice_recipient_id)
            if target == "recurring" and not (options.get("recurring") or source.recurring):
                raise ValidationFailed.field(
                    "recurring", "The recurring field is required when converting to recurring."
                )
            scheduled = options.get("scheduled_date") or await self.today(conn, source.company_id)
            due = options.get("due_date")
            if due is None and source.due_date is not None and source.due_date >= scheduled:
                due = source.due_date
            values = {name: getattr(source, name) for name in repo.EDITABLE} | {
                "currency": source.currency.strip(),
                "scheduled_date": scheduled,
                "due_date": due,
                "period": options.get("period", source.period),
                "recurring": options.get("recurring")
                or (source.recurring if target == "recurring" else None),
                "next_run_date": scheduled if target == "recurring" else None,
                "anchor_date": scheduled if target == "recurring" else None,
                "invoice_parent_id": None,
                # A quote's validity means nothing on an invoice, nor once it has passed.
                "valid_until": (
                    source.valid_until
                    if target == "quote" and source.valid_until and source.valid_until >= scheduled
                    else None
                ),
            }
            self._check_dates(values)
            # A number belongs to one record: the new one gets its own, of its own type.
            number = await repo.next_number(conn, source.company_id, PREFIXES[target])
            values["label"] = repo.number_label(PREFIXES[target], number)
            items = [
                {name: item[name] for name in repo.ITEM_COLUMNS}
                for item in await repo.items(conn, source.id)
            ]
            created = await repo.insert(
                conn,
                values
                | {
                    "subtotal": source.subtotal,
                    "tax": source.tax,
                    "total": source.total,
                    "company_id": source.company_id,
                    "public_id": secrets.token_urlsafe(16),
                    "type": target,
                    "status": "draft",
                    "created_by": scope.user_id,
                },
            )
            await repo.insert_items(conn, created.id, items)
            await repo.add_history(
                conn, created.id, scope.user_id, f"converted_from:{source.id}", None, "draft"
            )
            if source.type == "quote" and target == "invoice":
                await self._move(conn, scope, source, "converted", {})
            return created

    async def payment_link(self, scope: Scope, invoice_id: int) -> None:
        await self.find(self.pool, scope, invoice_id, "send")
        raise Conflict(
            "No payment provider is configured for this installation.",
            error_code="PAYMENT_PROVIDER_NOT_CONFIGURED",
        )

    # --- helpers ----------------------------------------------------------------------

    async def _locked(
        self,
        scope: Scope,
        invoice_id: int,
        if_match: str | None,
        operation: str,
        change: Callable[[asyncpg.Connection, Invoice], Awaitable[Invoice]],
        *,
        kind: str | None = None,
    ) -> Invoice:
        async with self.pool.acquire() as conn, conn.transaction():
            invoice = await self.find(conn, scope, invoice_id, operation, kind=kind, lock=True)
            check_if_match(invoice, if_match)
            return await change(conn, invoice)

    async def _move(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        invoice: Invoice,
        status: str,
        values: dict[str, Any],
    ) -> Invoice:
        await repo.add_history(conn, invoice.id, scope.user_id, status, invoice.status, status)
        return await repo.update(conn, invoice.id, values | {"status": status})

    async def _recipient(self, db: Any, invoice: Invoice) -> Row | None:
        if invoice.invoice_recipient_id is None:
            return None
        return await repo.owned_by_company(
            db, "recipients", invoice.invoice_recipient_id, invoice.company_id
        )

    @staticmethod
    async def _same_company(
        conn: asyncpg.Connection, scope: Scope, company_id: int, current: int
    ) -> None:
        if await named(conn, scope, "companies", company_id, "company_id") != current:
            raise ValidationFailed.field(
                "company_id", "The invoice cannot move to another company."
            )

    async def _company_for(self, conn: asyncpg.Connection, scope: Scope, draft: Draft) -> int:
        if draft.company_id is not None:
            return await resolve_company(conn, scope, draft.company_id, self.personal)
        for name, table in (("invoicer_id", "invoicers"), ("invoice_recipient_id", "recipients")):
            row_id = draft.fields.get(name)
            if row_id is not None:
                return await named(conn, scope, table, row_id, name)
        return await resolve_company(conn, scope, None, self.personal)

    async def _references(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        company: int,
        fields: dict[str, Any],
        current: Invoice | None = None,
    ) -> dict[str, Row | None]:
        """Every referenced record must belong to the invoice's company (`_reference`)."""
        refs: dict[str, Row | None] = {}
        for name, table in (
            ("invoicer_id", "invoicers"),
            ("invoice_recipient_id", "recipients"),
            ("invoicer_payment_detail_id", "payment_details"),
            ("invoice_parent_id", "invoices"),
        ):
            row_id = fields.get(name, getattr(current, name) if current else None)
            row = None
            if row_id is not None:
                row = await _reference(conn, scope, company, table, row_id, name)
            refs[name] = row
        detail, invoicer = refs["invoicer_payment_detail_id"], refs["invoicer_id"]
        if detail is not None and invoicer is not None and detail["invoicer_id"] != invoicer["id"]:
            raise ValidationFailed.field(
                "invoicer_payment_detail_id", "The payment details belong to another invoicer."
            )
        return refs

    def _defaults(self, fields: dict[str, Any], kind: str, today: date) -> dict[str, Any]:
        values = dict(fields)
        values.pop("type", None)
        values.setdefault("scheduled_date", today)
        if kind == "recurring":
            if not values.get("recurring"):
                raise ValidationFailed.field(
                    "recurring", "The recurring field is required when type is recurring."
                )
            values.setdefault("next_run_date", values["scheduled_date"])
            values["anchor_date"] = values["next_run_date"]
        return values

    @staticmethod
    def _check_dates(values: dict[str, Any]) -> None:
        scheduled = values.get("scheduled_date")
        for name in ("due_date", "valid_until"):
            value = values.get(name)
            if value is not None and scheduled is not None and value < scheduled:
                raise ValidationFailed.field(
                    name, f"The {name.replace('_', ' ')} must be on or after the scheduled date."
                )
        _check_terms(scheduled, values.get("due_date"), "due_date")

    async def _priced_items(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        company: int,
        items: list[dict[str, Any]],
        values: dict[str, Any],
        refs: dict[str, Row | None],
    ) -> list[dict[str, Any]]:
        currency = values["currency"]
        invoicer = refs.get("invoicer_id")
        default_tax = (invoicer or {}).get("tax_rate") or Decimal(0)
        priced = []
        for position, item in enumerate(items):
            if item.get("product_id") is not None:
                field_name = f"items.{position}.product_id"
                await _reference(conn, scope, company, "products", item["product_id"], field_name)
            tax = item.get("tax_percentage")
            line = LineInput(
                quantity=item["quantity"],
                price=item["price"],
                tax_percentage=default_tax if tax is None else tax,
                discount=item.get("discount") or Decimal(0),
                discount_percentage=item.get("discount_percentage", False),
                price_includes_tax=item.get("price_includes_tax", False),
                price_includes_discount=item.get("price_includes_discount", False),
                include=item.get("include", True),
            )
            if line.discount_percentage and line.discount > 100:
                raise ValidationFailed.field(
                    f"items.{position}.discount", "A percentage discount must not exceed 100."
                )
            amounts = line_amounts(line, currency)
            if amounts.net < 0:
                raise ValidationFailed.field(
                    f"items.{position}.discount", "The discount must not exceed the line amount."
                )
            priced.append(
                {
                    "position": position,
                    "label": item["label"],
                    "unit": item.get("unit", "service"),
                    "quantity": line.quantity,
                    "price": line.price,
                    "tax_percentage": line.tax_percentage,
                    "discount_percentage": line.discount_percentage,
                    "discount": line.discount,
                    "price_includes_tax": line.price_includes_tax,
                    "price_includes_discount": line.price_includes_discount,
                    "include": line.include,
                    "product_id": item.get("product_id"),
                    "net": amounts.net,
                    "tax_amount": amounts.tax,
                    "total": amounts.total,
                }
            )
        return priced

    @staticmethod
    def _totals(items: list[dict[str, Any]], currency: str) -> dict[str, Decimal]:
        sums = totals(
            [
                (
                    LineInput(Decimal(1), Decimal(0), Decimal(0), include=item["include"]),
                    _amounts(item),
                )
                for item in items
            ]
        )
        if sums.total > MAX_TOTAL:
            raise ValidationFailed.field("items", "The invoice total is too large.")
        return {"subtotal": sums.subtotal, "tax": sums.tax, "total": sums.total}

    @staticmethod
    async def _check_members(
        conn: asyncpg.Connection, company: int, members: list[dict[str, Any]]
    ) -> None:
        known = await repo.company_member_ids(conn, company)
        seen: set[int] = set()
        for position, member in enumerate(members):
            field = f"members.{position}.member_id"
            if member["member_id"] not in known:
                raise ValidationFailed.field(field, "The member is not in the invoice's company.")
            if member["member_id"] in seen:  # one access rule per member (the table's key)
                raise ValidationFailed.field(field, "The member is listed more than once.")
            seen.add(member["member_id"])


def readable_types(scope: Scope, requested: str | None) -> list[str] | None:
    """The record types a list may show (None: all). A type whose resource the token may not
    read never appears (no quote without `quotes:read`); asking for it is a 403."""
    if requested is not None:
        if not reads_without_ability(scope.identity, requested, "read"):
            scope.identity.require(f"{document_resource(requested)}:read")
        return [requested]
    types = [kind for kind in PREFIXES if scope.identity.can(f"{document_resource(kind)}:read")]
    return None if len(types) == len(PREFIXES) else types


def _amounts(item: dict[str, Any]) -> LineAmounts:
    return LineAmounts(item["net"], item["tax_amount"])


async def _reference(
    conn: asyncpg.Connection, scope: Scope, company: int, table: str, row_id: int, field_name: str
) -> Row:
    """A record a body names for the invoice: it must be of the invoice's company. Another
    tenant's is 403 COMPANY_ACCESS_DENIED, an id that exists nowhere a 422 on the field, one
    of the caller's other companies' a 422 (base.refuse_reference)."""
    row = await repo.owned_by_company(conn, table, row_id, company)
    if row is None:
        await refuse_reference(conn, scope, table, row_id, field_name)
    return row


def _authorize_import(scope: Scope, kind: str, company: int, steps: tuple[str, ...]) -> None:
    """A record created in a later status needs what each action leading there needs (a
    member may not create one as paid, nor as cancelled: permissions.MATRIX)."""
    for action in steps:
        authorize_document(scope, kind, company, ACTION_OPERATIONS[action])


def _check_terms(scheduled: date | None, due: date | None, field_name: str) -> None:
    if scheduled is not None and due is not None and due - scheduled > MAX_PAYMENT_TERMS:
        raise ValidationFailed.field(
            field_name,
            f"The due date must be at most {MAX_PAYMENT_TERMS.days} days after the issue date.",
        )


@contextmanager
def _label_unique() -> Iterator[None]:
    """A number the company already gave an invoice of the type (also a deleted one) is a 422
    on label; the unique index decides, so two concurrent writes cannot both get it."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != repo.LABEL_INDEX:
            raise
        raise ValidationFailed.field("label", "The label has already been taken.") from None
