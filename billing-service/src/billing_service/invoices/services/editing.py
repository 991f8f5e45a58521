"""Writing records of the invoices table: create (a draft, or a record imported in a later
status), update, delete, and who of the company may see and receive a record (members)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Protocol

import asyncpg

from billing_service.companies.services.companies import PersonalTeams
from billing_service.companies.services.scoped import named, refuse_reference, resolve_company
from billing_service.invoices import lifecycle
from billing_service.invoices.drafts import Draft
from billing_service.invoices.repositories import invoices as repo
from billing_service.invoices.repositories import members as members_repo
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services import parties as invoice_parties
from billing_service.invoices.services.pricing import invoice_totals, price_items
from billing_service.invoices.services.records import (
    InvoiceRecords,
    check_dates,
    next_label,
    overdue_reset,
)
from billing_service.platform.permissions import authorize_document
from billing_service.platform.repositories.crud import Row
from billing_service.platform.scope import Scope
from shared.errors import Conflict, ServiceUnavailable, ValidationFailed

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
# References a body may name, with their tables: each must be of the invoice's company.
REFERENCES = (
    ("invoicer_id", "invoicers"),
    ("invoice_recipient_id", "recipients"),
    ("invoicer_payment_detail_id", "payment_details"),
    ("invoice_parent_id", "invoices"),
)


class CreditNoteRules(Protocol):
    """What an edit of a draft credit note keeps to, under its row lock: its invoice's parties
    and currency, its lines checked as at its creation (receivables.services.credit_notes)."""

    async def edited(
        self,
        conn: asyncpg.Connection,
        credit_note: Invoice,
        fields: dict[str, Any],
        items: list[dict[str, Any]] | None,
    ) -> list[dict[str, Any]] | None: ...


class InvoiceEditor:
    def __init__(
        self,
        records: InvoiceRecords,
        personal: PersonalTeams | None = None,
        credit_notes: CreditNoteRules | None = None,
    ) -> None:
        self.records = records
        # A create without a company may make the member's team (named without the user
        # directory when none is given).
        self.personal = personal or PersonalTeams(None)
        self.credit_notes = credit_notes  # what a credit note's edit keeps to (receivables)

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
            async with self.records.pool.acquire() as conn, conn.transaction():
                invoice = await self._create(conn, scope, draft, kind, status, steps)
                await self.records.announce(conn, invoice, "created")
                return invoice

    async def _create(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        draft: Draft,
        kind: str,
        status: str,
        steps: tuple[str, ...],
    ) -> Invoice:
        company = await self._company_for(conn, scope, draft)
        authorize_document(scope, kind, company, "create")
        _authorize_import(scope, kind, company, steps)
        refs = await _references(conn, scope, company, draft.fields)
        await invoice_parties.require_live_recipient(conn, draft.fields, refs)
        fields = await invoice_parties.with_defaults(conn, company, draft.fields, refs)
        values = _defaults(fields, kind, await self.records.today(conn, company))
        check_dates(values)
        items = await _priced(conn, scope, company, draft.items or [], values, refs)
        if draft.members is not None:
            await _check_members(conn, company, draft.members)
        if values.get("invoice_parent_id") is not None:
            # Wait for a writer of the parent now, not while holding the numbers: writers
            # lock their invoice first and the numbers second, so this order never deadlocks.
            await repo.lock_parent(conn, values["invoice_parent_id"])
        if values.get("label"):
            await repo.lock_numbers(conn, company)
        else:
            values["label"] = await next_label(conn, company, kind)
        invoice = await repo.insert(
            conn,
            values
            | invoice_totals(items)
            | {
                "company_id": company,
                "public_id": secrets.token_urlsafe(16),
                "type": kind,
                "status": "draft" if steps else status,
                "created_by": scope.user_id,
            },
        )
        await repo.insert_items(conn, invoice.id, items)
        if draft.members is not None:
            await members_repo.replace_members(conn, invoice.id, draft.members)
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
            values[IMPORT_STAMPS[status]] = self.records.clock()
        if status == "paid":
            values |= await _imported_payment(conn, scope, invoice, paid_at)
        await repo.add_history(conn, invoice.id, scope.user_id, "imported", invoice.status, status)
        return await repo.update(conn, invoice.id, values)

    async def update(
        self,
        scope: Scope,
        invoice_id: int,
        draft: Draft,
        if_match: str | None,
        *,
        kind: str | None = None,
    ) -> InvoiceDetail:
        async def change(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            if _pauses_reminders_only(draft):
                return await _reminders_paused(conn, scope, invoice, draft)
            credit_items = await self._credit_note_items(conn, invoice, draft)
            return await _updated(conn, scope, invoice, draft, credit_items)

        with _label_unique():
            return await self.records.locked(
                scope, invoice_id, if_match, "update", change, kind=kind, verb="updated"
            )

    async def _credit_note_items(
        self, conn: asyncpg.Connection, invoice: Invoice, draft: Draft
    ) -> list[dict[str, Any]] | None:
        """A credit note's edit checked by its rules: its new lines priced, if any."""
        if invoice.type != "credit_note":
            return None
        lifecycle.require("update", invoice.type, invoice.status)
        if self.credit_notes is None:
            raise ServiceUnavailable("Credit notes are not configured.")
        return await self.credit_notes.edited(conn, invoice, draft.fields, draft.items)

    async def delete(
        self, scope: Scope, invoice_id: int, if_match: str | None, *, kind: str | None = None
    ) -> None:
        async def remove(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            kept = invoice.amount_paid + invoice.amount_credited  # credited: also kept
            if not lifecycle.can_delete(invoice.type, invoice.status, kept):
                raise Conflict(
                    "Paid or credited invoices, invoices with payments and issued credit "
                    "notes cannot be deleted."
                )
            updated = await repo.update(conn, invoice.id, {"deleted_at": self.records.clock()})
            await repo.add_history(
                conn, invoice.id, scope.user_id, "deleted", invoice.status, invoice.status
            )
            return updated

        await self.records.locked(
            scope, invoice_id, if_match, "delete", remove, kind=kind, verb="deleted"
        )

    async def set_members(
        self, scope: Scope, invoice_id: int, members: list[dict[str, Any]]
    ) -> list[Row]:
        async def change(conn: asyncpg.Connection, invoice: Invoice) -> Invoice:
            await _check_members(conn, invoice.company_id, members)
            await members_repo.replace_members(conn, invoice.id, members)
            return await repo.update(conn, invoice.id, {})

        updated = await self.records.locked(
            scope, invoice_id, None, "update", change, verb="updated"
        )
        return updated.members

    async def _company_for(self, conn: asyncpg.Connection, scope: Scope, draft: Draft) -> int:
        if draft.company_id is not None:
            return await resolve_company(conn, scope, draft.company_id, self.personal)
        for name, table in REFERENCES[:2]:  # the invoicer's or the recipient's company
            row_id = draft.fields.get(name)
            if row_id is not None:
                return await named(conn, scope, table, row_id, name)
        return await resolve_company(conn, scope, None, self.personal)


async def _updated(
    conn: asyncpg.Connection,
    scope: Scope,
    invoice: Invoice,
    draft: Draft,
    credit_items: list[dict[str, Any]] | None,
) -> Invoice:
    """The locked record with the draft's changes (a credit note's lines: `credit_items`,
    already priced and checked)."""
    lifecycle.require("update", invoice.type, invoice.status)
    if "type" in draft.fields and draft.fields["type"] != invoice.type:
        raise ValidationFailed.field("type", "Use /convert to change the type.")
    fields = {key: value for key, value in draft.fields.items() if key != "type"}
    if draft.company_id is not None:  # repeated by a client: must be the record's own
        await _same_company(conn, scope, draft.company_id, invoice.company_id)
    if fields.get("invoice_parent_id") == invoice.id:
        raise ValidationFailed.field("invoice_parent_id", "An invoice cannot be its own parent.")
    if "label" in fields:
        await repo.lock_numbers(conn, invoice.company_id)
    refs = await _references(conn, scope, invoice.company_id, fields, current=invoice)
    await invoice_parties.require_live_recipient(conn, fields, refs)
    values = {name: getattr(invoice, name) for name in repo.EDITABLE} | fields
    values["currency"] = values["currency"].strip()
    check_dates(values)
    if draft.items is not None:
        items = credit_items
        if items is None:
            items = await _priced(conn, scope, invoice.company_id, draft.items, values, refs)
        await repo.replace_items(conn, invoice.id, items)
        fields |= invoice_totals(items)
    elif "currency" in fields and fields["currency"] != invoice.currency.strip():
        raise ValidationFailed.field("currency", "Send the items again to change the currency.")
    if draft.members is not None:
        await _check_members(conn, invoice.company_id, draft.members)
        await members_repo.replace_members(conn, invoice.id, draft.members)
    # An edit may have fixed what made the scheduler set the invoice aside: retry it.
    cleared = repo.SCHEDULER_CLEARED | overdue_reset(invoice, fields)
    updated = await repo.update(conn, invoice.id, fields | cleared)
    await repo.add_history(
        conn, invoice.id, scope.user_id, "updated", invoice.status, invoice.status
    )
    return updated


def _pauses_reminders_only(draft: Draft) -> bool:
    """An update that sends `reminders_paused` alone (the route's own type aside), which an
    issued invoice takes too: its lines and parties stay as issued."""
    fields = set(draft.fields) - {"type"}
    return (
        fields == {"reminders_paused"}
        and draft.items is None
        and draft.members is None
        and draft.company_id is None
    )


async def _reminders_paused(
    conn: asyncpg.Connection, scope: Scope, invoice: Invoice, draft: Draft
) -> Invoice:
    """Automatic reminders paused or resumed, in any status (a resume also retries a reminder
    set aside after failing: the invoice is then newer than its failure)."""
    if draft.fields.get("type", invoice.type) != invoice.type:
        raise ValidationFailed.field("type", "Use /convert to change the type.")
    paused = bool(draft.fields["reminders_paused"])
    event = "reminders_paused" if paused else "reminders_resumed"
    await repo.add_history(conn, invoice.id, scope.user_id, event, invoice.status, invoice.status)
    return await repo.update(conn, invoice.id, {"reminders_paused": paused})


async def _same_company(
    conn: asyncpg.Connection, scope: Scope, company_id: int, current: int
) -> None:
    if await named(conn, scope, "companies", company_id, "company_id") != current:
        raise ValidationFailed.field("company_id", "The invoice cannot move to another company.")


async def _imported_payment(
    conn: asyncpg.Connection, scope: Scope, invoice: Invoice, paid_at: date | None
) -> dict[str, Any]:
    """The payment of the whole total, dated `paid_at`, by default the issue date."""
    day = paid_at or invoice.scheduled_date
    if invoice.total > 0:  # a free invoice is paid with nothing to record
        await repo.insert_payment(conn, invoice, invoice.total, day, None, None, scope.user_id)
    return {"amount_paid": invoice.total, "paid_at": datetime.combine(day, time(), UTC)}


async def _references(
    conn: asyncpg.Connection,
    scope: Scope,
    company: int,
    fields: dict[str, Any],
    current: Invoice | None = None,
) -> dict[str, Row | None]:
    """Every referenced record must belong to the invoice's company (`_reference`)."""
    refs: dict[str, Row | None] = {}
    for name, table in REFERENCES:
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


async def _priced(
    conn: asyncpg.Connection,
    scope: Scope,
    company: int,
    items: list[dict[str, Any]],
    values: dict[str, Any],
    refs: dict[str, Row | None],
) -> list[dict[str, Any]]:
    """The lines priced, each product they name checked to be the company's."""
    for position, item in enumerate(items):
        if item.get("product_id") is not None:
            field_name = f"items.{position}.product_id"
            await _reference(conn, scope, company, "products", item["product_id"], field_name)
    default_tax = (refs.get("invoicer_id") or {}).get("tax_rate") or Decimal(0)
    return price_items(items, values["currency"], default_tax)


def _defaults(fields: dict[str, Any], kind: str, today: date) -> dict[str, Any]:
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


async def _check_members(
    conn: asyncpg.Connection, company: int, members: list[dict[str, Any]]
) -> None:
    known = await members_repo.company_member_ids(conn, company)
    seen: set[int] = set()
    for position, member in enumerate(members):
        field = f"members.{position}.member_id"
        if member["member_id"] not in known:
            raise ValidationFailed.field(field, "The member is not in the invoice's company.")
        if member["member_id"] in seen:  # one access rule per member (the table's key)
            raise ValidationFailed.field(field, "The member is listed more than once.")
        seen.add(member["member_id"])


def _authorize_import(scope: Scope, kind: str, company: int, steps: tuple[str, ...]) -> None:
    """A record created in a later status needs what each action leading there needs (a
    member may not create one as paid, nor as cancelled: permissions.MATRIX)."""
    for action in steps:
        authorize_document(scope, kind, company, ACTION_OPERATIONS[action])


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
