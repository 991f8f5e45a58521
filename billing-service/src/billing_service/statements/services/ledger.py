"""A customer's account in one currency, from its records: pure, no I/O.

The balance is what the customer owes net of the credit they hold: an invoice raises it by
its total, a refund by what went back; a credit note lowers it by its total, a payment by
what came in (a payment across invoices once, whole: its allocations and what it left on
account). Credit applied to an invoice moves money the customer already has with us from
their credit to that invoice: it is listed, and moves the balance by nothing. So the closing
balance is always the sum of what the invoices say is owed less the credit available, and a
negative balance is money the customer has on account with us.

Each record counts on its own date: an invoice's or credit note's issue date, a payment's
paid date, a refund's date; what a credit note moved into the credit counts with the note.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billing_service.platform.aging import AGE_BUCKET_NAMES, age_bucket, days_past_due
from billing_service.platform.money import round_money
from billing_service.platform.repositories.crud import Row
from billing_service.statements.repositories import AccountRecords
from billing_service.statements.views import OpenInvoiceView

ZERO = Decimal(0)
# Within one day: what was billed, then what came back, then what settled it.
ORDER = {"invoice": 0, "refund": 1, "credit_note": 2, "payment": 3, "credit_applied": 4}


@dataclass(frozen=True)
class Allocated:
    invoice_id: int
    invoice_number: str
    amount: Decimal


@dataclass(frozen=True)
class Entry:
    """One line of the statement: `debit` raises what the customer owes, `credit` lowers it;
    `amount` is the record's own (credit applied: the only figure it has)."""

    day: date
    kind: str
    record_id: int
    reference: str | None
    description: str
    amount: Decimal
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    invoice_id: int | None = None
    allocations: tuple[Allocated, ...] = ()

    @property
    def change(self) -> Decimal:
        return self.debit - self.credit


@dataclass(frozen=True)
class Account:
    opening_balance: Decimal
    lines: list[tuple[Entry, Decimal]]  # each with the running balance after it
    closing_balance: Decimal
    open_invoices: list[OpenInvoiceView]  # owed not yet rounded
    aging: dict[str, Decimal]
    owed: Decimal
    credit_available: Decimal


@dataclass
class _Owed:
    """What one invoice is owed, as its records add up by a day."""

    number: str = ""
    issued: date | None = None
    due: date | None = None
    amount: Decimal = ZERO


def account(records: AccountRecords, start: date, end: date, currency: str) -> Account:
    """The account between `start` and `end` (both included); `records` reach up to `end`."""
    entries = sorted(_entries(records, currency), key=lambda e: (e.day, ORDER[e.kind], e.record_id))
    opening = sum((e.change for e in entries if e.day < start), ZERO)
    running, lines = opening, []
    for entry in (e for e in entries if e.day >= start):
        running += entry.change
        lines.append((entry, running))
    open_invoices = _open_invoices(records, end)
    aging = dict.fromkeys(AGE_BUCKET_NAMES, ZERO)
    for invoice in open_invoices:
        aging[invoice.bucket] += invoice.owed
    return Account(
        opening_balance=opening,
        lines=lines,
        closing_balance=running,
        open_invoices=open_invoices,
        aging=aging,
        owed=sum(aging.values(), ZERO),
        credit_available=_credit(records),
    )


def _entries(records: AccountRecords, currency: str) -> list[Entry]:
    allocations: dict[int, list[Allocated]] = defaultdict(list)
    entries = []
    for row in records.documents:
        entries.append(_document(row, currency))
    for row in records.payments:
        if row["received_payment_id"] is not None:
            allocations[row["received_payment_id"]].append(
                Allocated(row["invoice_id"], row["label"], row["amount"])
            )
        else:
            entries.append(_payment(row))
    for row in records.received:
        entries.append(_received(row, allocations[row["id"]], currency))
    for row in records.refunds:
        entries.append(
            Entry(
                row["day"],
                "refund",
                row["id"],
                row["label"],
                f"Refund on invoice {row['label']}: {row['reason']}",
                row["amount"],
                debit=row["amount"],
                invoice_id=row["invoice_id"],
            )
        )
    return entries


def _document(row: Row, currency: str) -> Entry:
    if row["type"] == "invoice":
        due = f", due {row['due_date'].isoformat()}" if row["due_date"] else ""
        return Entry(
            row["day"],
            "invoice",
            row["id"],
            row["label"],
            f"Invoice {row['label']}{due}",
            row["total"],
            debit=row["total"],
            invoice_id=row["id"],
        )
    to_credit = (
        f" ({round_money(row['to_credit'], currency)} to your credit)" if row["to_credit"] else ""
    )
    return Entry(
        row["day"],
        "credit_note",
        row["id"],
        row["label"],
        f"Credit note {row['label']} for invoice {row['credited_label']}{to_credit}",
        row["total"],
        credit=row["total"],
        invoice_id=row["credited_invoice_id"],
    )


def _payment(row: Row) -> Entry:
    if row["from_credit"]:
        return Entry(
            row["day"],
            "credit_applied",
            row["id"],
            row["label"],
            f"Credit applied to invoice {row['label']}",
            row["amount"],
            invoice_id=row["invoice_id"],
        )
    how = f" ({row['payment_method']})" if row["payment_method"] else ""
    return Entry(
        row["day"],
        "payment",
        row["id"],
        row["reference"],
        f"Payment on invoice {row['label']}{how}",
        row["amount"],
        credit=row["amount"],
        invoice_id=row["invoice_id"],
    )


def _received(row: Row, allocations: list[Allocated], currency: str) -> Entry:
    parts = [f"{a.invoice_number} {round_money(a.amount, currency)}" for a in allocations]
    if row["unallocated"]:
        parts.append(f"{round_money(row['unallocated'], currency)} on account")
    how = f" ({row['payment_method']})" if row["payment_method"] else ""
    return Entry(
        row["day"],
        "payment",
        row["id"],
        row["reference"],
        f"Payment{how}: " + ", ".join(parts),
        row["amount"],
        credit=row["amount"],
        allocations=tuple(allocations),
    )


def _open_invoices(records: AccountRecords, end: date) -> list[OpenInvoiceView]:
    """Each invoice's balance on `end`: its total, less what was paid on it (credit applied
    included), plus what was refunded, less its credit notes, plus what they moved on into
    the credit (money the invoice no longer keeps)."""
    owed: dict[int, _Owed] = defaultdict(_Owed)
    for row in records.documents:
        if row["type"] == "invoice":
            invoice = owed[row["id"]]
            invoice.number, invoice.issued, invoice.due = row["label"], row["day"], row["due_date"]
            invoice.amount += row["total"]
        else:
            owed[row["credited_invoice_id"]].amount -= row["total"] - row["to_credit"]
    for row in records.payments:
        owed[row["invoice_id"]].amount -= row["amount"]
    for row in records.refunds:
        owed[row["invoice_id"]].amount += row["amount"]
    open_invoices = []
    for invoice_id, invoice in owed.items():
        if invoice.issued is None or invoice.amount <= 0:
            continue  # settled, or issued after the day
        late = days_past_due(invoice.due, end)
        open_invoices.append(
            OpenInvoiceView(
                invoice_id=invoice_id,
                invoice_number=invoice.number,
                issue_date=invoice.issued,
                due_date=invoice.due,
                owed=invoice.amount,
                days_past_due=max(late, 0),
                bucket=age_bucket(late),
            )
        )
    return sorted(open_invoices, key=lambda i: (i.issue_date, i.invoice_id))


def _credit(records: AccountRecords) -> Decimal:
    """The credit on `end`: payments left on account and what credit notes moved there, less
    what was applied to invoices."""
    given = sum((row["unallocated"] for row in records.received), ZERO)
    given += sum((row["to_credit"] for row in records.documents), ZERO)
    spent = sum((row["amount"] for row in records.payments if row["from_credit"]), ZERO)
    return given - spent
