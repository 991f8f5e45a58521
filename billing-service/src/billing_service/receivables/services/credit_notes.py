"""Credit notes: drafted from an issued invoice (its lines, or the lines named), never more
than the invoice still has to credit; issued by approval, which lowers the invoice's balance
and gives the customer what it credits beyond that balance."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from billing_service.einvoice.model import vat_category_of
from billing_service.invoices.repositories import invoices as invoice_repo
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services.pricing import invoice_totals, price_items
from billing_service.invoices.services.records import InvoiceRecords, next_label
from billing_service.platform.money import quantum
from billing_service.platform.permissions import authorize_document, require
from billing_service.platform.scope import Scope
from billing_service.receivables import repositories as repo
from billing_service.receivables.repositories import CreditChange
from billing_service.receivables.services.credit import change_credit
from shared.errors import Conflict, ValidationFailed

# An invoice is credited once issued: approved, sent, due or paid.
CREDITABLE = frozenset({"approved", "sent", "due", "paid"})
# The invoice's fields a credit note repeats (its parties, currency and references).
COPIED = (
    "invoicer_id",
    "invoice_recipient_id",
    "invoicer_payment_detail_id",
    "currency",
    "subject",
    "period",
    "description",
    "buyer_reference",
    "purchase_order_reference",
)
# What an edit of a credit note cannot change: they are its invoice's.
KEPT = ("invoice_recipient_id", "invoicer_id", "currency")


@dataclass(frozen=True)
class CreditNoteRequest:
    reason: str
    items: list[dict[str, Any]] | None
    scheduled_date: date | None
    notes: str | None


class CreditNotes:
    def __init__(self, records: InvoiceRecords) -> None:
        self.records = records

    async def create(self, scope: Scope, invoice_id: int, request: CreditNoteRequest) -> Invoice:
        """A draft credit note of the invoice. The invoice's row lock serialises its credit
        notes: together they never credit more than its total."""
        async with self.records.pool.acquire() as conn, conn.transaction():
            invoice = await self.records.find(conn, scope, invoice_id, "read", lock=True)
            authorize_document(scope, "credit_note", invoice.company_id, "create")
            if invoice.type != "invoice" or invoice.status not in CREDITABLE:
                raise Conflict(
                    f"Only an issued invoice can be credited; this {invoice.type} is "
                    f"{invoice.status}."
                )
            left = await _creditable(conn, invoice)
            if left.total <= 0:
                raise Conflict(_nothing_left(invoice))
            items = await _credit_items(conn, invoice, request.items, left)
            note = await self._insert(conn, scope, invoice, request, items)
            await self.records.announce(conn, note, "created")
            return note

    async def edited(
        self,
        conn: asyncpg.Connection,
        credit_note: Invoice,
        fields: dict[str, Any],
        items: list[dict[str, Any]] | None,
    ) -> list[dict[str, Any]] | None:
        """An edit of the draft credit note (its row locked, then its invoice's, as issuing
        locks them): it keeps the invoice's parties and currency; its new lines, if any, are
        checked as at its creation, beside the invoice's other credit notes."""
        invoice = await credited_invoice(conn, credit_note)
        _check_kept_fields(invoice, fields)
        if items is None:
            return None
        left = await _creditable(conn, invoice, leaving_out=credit_note.id)
        return await _credit_items(conn, invoice, items, left)

    async def _insert(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        invoice: Invoice,
        request: CreditNoteRequest,
        items: list[dict[str, Any]],
    ) -> Invoice:
        copied = {name: getattr(invoice, name) for name in COPIED}
        issue_date = request.scheduled_date or await self.records.today(conn, invoice.company_id)
        label = await next_label(conn, invoice.company_id, "credit_note")
        note = await invoice_repo.insert(
            conn,
            copied
            | invoice_totals(items)
            | {
                "currency": invoice.currency.strip(),
                "label": label,
                "scheduled_date": issue_date,
                "notes": request.notes,
                "company_id": invoice.company_id,
                "public_id": secrets.token_urlsafe(16),
                "type": "credit_note",
                "status": "draft",
                "created_by": scope.user_id,
                "credited_invoice_id": invoice.id,
                "credit_reason": request.reason,
            },
        )
        await invoice_repo.insert_items(conn, note.id, items)
        await invoice_repo.add_history(conn, note.id, scope.user_id, "created", None, "draft")
        return note

    async def issue(self, conn: asyncpg.Connection, scope: Scope, credit_note: Invoice) -> None:
        """Approving the credit note (its row locked): the invoice (locked after it, always
        in that order) is credited its total; beyond the balance due, the customer's credit."""
        require(scope, credit_note.company_id, "credit_notes.issue")
        invoice = await credited_invoice(conn, credit_note)
        _check_issuable(credit_note, invoice)
        overflow = max(credit_note.total - invoice.balance_due, Decimal(0))
        if overflow > 0 and invoice.invoice_recipient_id is None:
            raise Conflict(
                "The invoice has no customer to hold what it credits beyond its balance."
            )
        credited = await self._credit(conn, scope, invoice, credit_note.total, overflow)
        verbs = ["credited"] + (["paid"] if credited.status == "paid" != invoice.status else [])
        await self.records.announce(conn, credited, *verbs)
        if overflow > 0:
            change = CreditChange(
                invoice.company_id,
                invoice.invoice_recipient_id or 0,
                invoice.currency.strip(),
                overflow,
                "credit_note",
                scope.user_id,
                invoice_id=credit_note.id,
            )
            await change_credit(conn, self.records.events, change)

    async def _credit(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        invoice: Invoice,
        amount: Decimal,
        overflow: Decimal,
    ) -> Invoice:
        """The invoice credited `amount`, `overflow` of its kept money moved to the credit:
        `credited` when credited in full, `paid` when the rest of it was paid."""
        values: dict[str, Any] = {
            "amount_credited": invoice.amount_credited + amount,
            "amount_paid": invoice.amount_paid - overflow,
        }
        if values["amount_credited"] == invoice.total:
            return await self.records.move(conn, scope.user_id, invoice, "credited", values)
        if invoice.balance_due - amount + overflow == 0 and invoice.status != "paid":
            values["paid_at"] = self.records.clock()
            return await self.records.move(conn, scope.user_id, invoice, "paid", values)
        await invoice_repo.add_history(
            conn, invoice.id, scope.user_id, "credited", invoice.status, invoice.status
        )
        return await invoice_repo.update(conn, invoice.id, values)


def _check_issuable(credit_note: Invoice, invoice: Invoice) -> None:
    if credit_note.currency.strip() != invoice.currency.strip():
        raise ValidationFailed.field("currency", "A credit note is in its invoice's currency.")
    if invoice.status not in CREDITABLE:
        raise Conflict(f"The credited invoice is {invoice.status}.")
    if credit_note.total > invoice.total - invoice.amount_credited:
        raise Conflict("The credit note credits more than the invoice still has to credit.")


async def _invoicer_tax(conn: asyncpg.Connection, invoice: Invoice) -> Decimal:
    """The rate a named line without its own takes: the invoicer's, as on the invoice."""
    if invoice.invoicer_id is None:
        return Decimal(0)
    invoicer = await invoice_repo.owned_by_company(
        conn, "invoicers", invoice.invoicer_id, invoice.company_id
    )
    return Decimal((invoicer or {}).get("tax_rate") or 0)


async def _copied_items(conn: asyncpg.Connection, invoice_id: int) -> list[dict[str, Any]]:
    return [
        {name: item[name] for name in invoice_repo.ITEM_COLUMNS}
        for item in await invoice_repo.items(conn, invoice_id)
        if item["include"]
    ]


# A VAT group of lines: (VAT category, rate), as the invoice's tax is rounded per group.
Group = tuple[str, Decimal]


@dataclass(frozen=True)
class Creditable:
    """What of an invoice its credit notes (issued and drafts) have not credited yet: in
    total, and the net per VAT group of its lines (with the group's exemption reason)."""

    total: Decimal
    nets: dict[Group, Decimal]
    reasons: dict[Group, str | None]
    untouched: bool  # no credit note credits anything of it yet

    def remainder_lines(self, label: str) -> list[dict[str, Any]]:
        """Per VAT group with net left, one line crediting it."""
        return [
            {
                "label": f"Remainder of {label} at {rate:f} % VAT",
                "quantity": Decimal(1),
                "price": net,
                "tax_percentage": rate,
                "vat_category": category,
                "vat_exemption_reason": self.reasons[(category, rate)],
            }
            for (category, rate), net in self.nets.items()
            if net > 0
        ]


async def credited_invoice(conn: asyncpg.Connection, credit_note: Invoice) -> Invoice:
    """The invoice the credit note credits, row-locked (after the note: always that order)."""
    where = invoice_repo.member_conditions([credit_note.company_id])
    invoice = await invoice_repo.one(conn, credit_note.credited_invoice_id or 0, where, lock=True)
    if invoice is None:
        raise Conflict("The credited invoice has been deleted.")
    return invoice


def _check_kept_fields(invoice: Invoice, fields: dict[str, Any]) -> None:
    """A credit note's buyer, invoicer and currency are its invoice's: an edit keeps them."""
    for name in KEPT:
        if name in fields and fields[name] != _stripped(getattr(invoice, name)):
            raise ValidationFailed.field(
                name, f"A credit note keeps its invoice's {name.removesuffix('_id')}."
            )


async def _credit_items(
    conn: asyncpg.Connection,
    invoice: Invoice,
    named: list[dict[str, Any]] | None,
    left: Creditable,
) -> list[dict[str, Any]]:
    """The lines to credit, priced: the invoice's own while nothing of it is credited, else
    one line per VAT group with what that group still has to credit. Named lines are each
    of one of the invoice's VAT groups, and credit no group nor the total beyond what is left."""
    if named is None:
        if left.untouched:
            return await _copied_items(conn, invoice.id)
        named = left.remainder_lines(invoice.label)
    currency = invoice.currency.strip()
    items = price_items(named, currency, await _invoicer_tax(conn, invoice))
    _check_groups(items, left, currency)
    credited = invoice_totals(items)["total"]
    if credited <= 0:
        raise ValidationFailed.field("items", "A credit note credits more than nothing.")
    if credited > left.total:
        raise ValidationFailed.field(
            "items",
            f"The credit note's total ({_money(credited, currency)}) must not be greater than "
            f"what the invoice still has to credit ({_money(left.total, currency)}).",
        )
    return items


def _check_groups(items: list[dict[str, Any]], left: Creditable, currency: str) -> None:
    credited: dict[Group, Decimal] = {}
    for position, item in enumerate(items):
        if not item["include"]:
            continue
        group = _group_of(item)
        if group not in left.nets:
            raise ValidationFailed.field(
                f"items.{position}.tax_percentage",
                f"The invoice has no line of VAT category {group[0]} at {group[1]:f} %.",
            )
        credited[group] = credited.get(group, Decimal(0)) + item["net"]
    for (category, rate), net in credited.items():
        if net > left.nets[(category, rate)]:
            raise ValidationFailed.field(
                "items",
                f"The net credited at {rate:f} % VAT ({category}), {_money(net, currency)}, must "
                f"not be greater than what the invoice still has there "
                f"({_money(left.nets[(category, rate)], currency)}).",
            )


async def _creditable(
    conn: asyncpg.Connection, invoice: Invoice, leaving_out: int | None = None
) -> Creditable:
    nets: dict[Group, Decimal] = {}
    reasons: dict[Group, str | None] = {}
    for item in await invoice_repo.items(conn, invoice.id):
        if item["include"]:
            group = _group_of(item)
            nets[group] = nets.get(group, Decimal(0)) + item["net"]
            reasons.setdefault(group, item["vat_exemption_reason"])
    credited = await repo.credited_by_group(conn, invoice.id, leaving_out)
    for row in credited:
        group = _group_of(row)
        nets[group] = nets.get(group, Decimal(0)) - row["net"]
    notes_total = await repo.credit_notes_total(conn, invoice.id, leaving_out)
    return Creditable(invoice.total - notes_total, nets, reasons, untouched=not credited)


def _nothing_left(invoice: Invoice) -> str:
    if invoice.amount_credited >= invoice.total:
        return "The invoice is credited in full already."
    return (
        "Draft credit notes of the invoice hold all it still has to credit: issue, edit or "
        "delete them first."
    )


def _group_of(line: dict[str, Any]) -> Group:
    rate = Decimal(line["tax_percentage"]).normalize()
    return vat_category_of(line["vat_category"], rate), rate


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency))
