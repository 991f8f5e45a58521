"""The invoices table as every invoice service reaches it: a record found within the caller's
scope and rights, locked for a change (If-Match checked), moved to a status, numbered, cloned.

The services build on it, one responsibility each: `invoice_queries` (lists, details),
`invoice_editing` (create, update, delete, members), `invoice_actions` (the lifecycle),
`invoice_conversion` (another type from a record) and `recurring` (a template's periods).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from typing import Any

import asyncpg

from billing_service.events.services import EventLog
from billing_service.invoices.repositories import invoices as repo
from billing_service.invoices.repositories.detail import InvoiceDetail, load_detail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.views.mapping import invoice_view
from billing_service.platform.permissions import authorize_document
from billing_service.platform.recurrence import company_today
from billing_service.platform.repositories.sql import Conditions
from billing_service.platform.scope import Scope
from shared.clock import Clock, system_clock
from shared.errors import NotFound, PreconditionFailed, ValidationFailed

PREFIXES = {
    "invoice": "INV",
    "quote": "QUO",
    "recurring": "REC",
    "template": "TPL",
    "credit_note": "CN",
}
MAX_PAYMENT_TERMS = timedelta(days=3660)  # ten years: longer is a typo, not a contract
Change = Callable[[asyncpg.Connection, Invoice], Awaitable[Invoice]]
# The verbs a change is announced with, given the record as the change left it.
Verbs = Callable[[Invoice], Sequence[str]]


def etag(invoice: Invoice) -> str:
    return f'"{invoice.id}.{invoice.version}"'


def check_if_match(invoice: Invoice, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    wanted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if etag(invoice) not in wanted:
        raise PreconditionFailed()


class InvoiceRecords:
    """One record of the invoices table at a time, as the caller may reach it."""

    def __init__(
        self, pool: asyncpg.Pool, clock: Clock = system_clock, events: EventLog | None = None
    ) -> None:
        self.pool = pool
        self.clock = clock
        # Every change writes its event in its own transaction (services.events).
        self.events = events or EventLog(clock, "http://localhost:8080")

    async def today(self, db: Any, company_id: int) -> date:
        """Today in the company's timezone: the default issue and payment date."""
        return company_today(self.clock(), await repo.company_timezone(db, company_id))

    def visible(self, scope: Scope) -> Conditions:
        """The rows the caller may see: a member's companies', a client's issued ones."""
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
        invoice = await repo.one(db, invoice_id, self.visible(scope), lock=lock)
        if invoice is None or (kind is not None and invoice.type != kind):
            raise NotFound("Invoice not found.")
        authorize_document(scope, invoice.type, invoice.company_id, operation)
        return invoice

    async def locked(
        self,
        scope: Scope,
        invoice_id: int,
        if_match: str | None,
        operation: str,
        change: Change,
        *,
        kind: str | None = None,
        verb: str | Verbs | None = None,
    ) -> InvoiceDetail:
        """`change` applied in one transaction holding the record's row lock, and the record
        as the change left it loaded once in that transaction (the snapshot): announced as
        `<type>.<verb>` with a `verb`, and returned for the answer, so the answer and the
        event show the same state."""
        async with self.pool.acquire() as conn, conn.transaction():
            invoice = await self.find(conn, scope, invoice_id, operation, kind=kind, lock=True)
            check_if_match(invoice, if_match)
            changed = await change(conn, invoice)
            detail = await load_detail(conn, changed)
            verbs = [verb] if isinstance(verb, str) else (verb(changed) if verb else [])
            if verbs:
                await self.announce(conn, changed, *verbs, detail=detail)
            return detail

    async def announce(
        self,
        conn: asyncpg.Connection,
        invoice: Invoice,
        *verbs: str,
        detail: InvoiceDetail | None = None,
    ) -> None:
        """The record's events `<type>.<verb>`, in this order, in the caller's transaction
        (services.events: no change without its event, no event without its change)."""
        types = [f"{invoice.type}.{verb}" for verb in verbs]
        await self.announce_types(conn, invoice, types, detail)

    async def announce_types(
        self,
        conn: asyncpg.Connection,
        invoice: Invoice,
        event_types: Sequence[str],
        detail: InvoiceDetail | None = None,
    ) -> InvoiceDetail:
        """Events of one change of the record, all carrying its member view, loaded once in
        this transaction (or the snapshot the caller already holds); that snapshot."""
        detail = detail or await load_detail(conn, invoice)
        view = invoice_view(detail.invoice, self.events.public_base_url, detail=detail)
        await self.events.documents(conn, invoice.company_id, invoice.id, event_types, view)
        return detail

    async def move(
        self,
        conn: asyncpg.Connection,
        user_id: int | None,
        invoice: Invoice,
        status: str,
        values: dict[str, Any],
    ) -> Invoice:
        """The record in its new status, with `values` and a history entry."""
        await repo.add_history(conn, invoice.id, user_id, status, invoice.status, status)
        return await repo.update(conn, invoice.id, values | {"status": status})


async def next_label(conn: asyncpg.Connection, company_id: int, kind: str) -> str:
    """The company's next free number for a record of `kind` (INV-0042), locked until commit."""
    prefix = PREFIXES[kind]
    return repo.number_label(prefix, await repo.next_number(conn, company_id, prefix))


async def clone_invoice(
    conn: asyncpg.Connection,
    source: Invoice,
    kind: str,
    values: dict[str, Any],
    *,
    user_id: int | None,
    event: str,
    label: str | None = None,
) -> Invoice:
    """A new draft of `kind` with the source's fields, totals and items, `values` over them,
    `label` or else the next number of its type, and a history entry `event`."""
    copied = {name: getattr(source, name) for name in repo.EDITABLE} | {
        "currency": source.currency.strip(),
        "subtotal": source.subtotal,
        "tax": source.tax,
        "total": source.total,
        "company_id": source.company_id,
        "public_id": secrets.token_urlsafe(16),
        "type": kind,
        "status": "draft",
    }
    label = label or await next_label(conn, source.company_id, kind)
    created = await repo.insert(conn, copied | values | {"label": label})
    items = [
        {name: item[name] for name in repo.ITEM_COLUMNS}
        for item in await repo.items(conn, source.id)
    ]
    await repo.insert_items(conn, created.id, items)
    await repo.add_history(conn, created.id, user_id, event, None, "draft")
    return created


def overdue_reset(invoice: Invoice, values: dict[str, Any]) -> dict[str, Any]:
    """A new due date is a new deadline: its passing is announced again (invoice.overdue)."""
    if "due_date" in values and values["due_date"] != invoice.due_date:
        return dict(repo.OVERDUE_UNANNOUNCED)
    return {}


def check_dates(values: dict[str, Any]) -> None:
    """A due date or a validity never before the issue date, and payment terms in reason."""
    scheduled = values.get("scheduled_date")
    for name in ("due_date", "valid_until"):
        value = values.get(name)
        if value is not None and scheduled is not None and value < scheduled:
            raise ValidationFailed.field(
                name, f"The {name.replace('_', ' ')} must be on or after the scheduled date."
            )
    check_terms(scheduled, values.get("due_date"), "due_date")


def check_terms(scheduled: date | None, due: date | None, field_name: str) -> None:
    if scheduled is not None and due is not None and due - scheduled > MAX_PAYMENT_TERMS:
        raise ValidationFailed.field(
            field_name,
            f"The due date must be at most {MAX_PAYMENT_TERMS.days} days after the issue date.",
        )
