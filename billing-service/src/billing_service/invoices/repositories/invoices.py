"""SQL for invoices (every type), their items, payments, history, members and e-mails."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from billing_service.platform.repositories.crud import Db, Row
from billing_service.platform.repositories.sql import Conditions


@dataclass(frozen=True)
class Invoice:
    id: int
    company_id: int
    public_id: str
    type: str
    status: str
    label: str
    invoicer_id: int | None
    invoice_recipient_id: int | None
    invoicer_payment_detail_id: int | None
    currency: str
    scheduled_date: date
    due_date: date | None
    valid_until: date | None
    subject: str | None
    period: str | None
    recurring: str | None
    next_run_date: date | None
    invoice_parent_id: int | None
    description: str | None
    notes: str | None
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    amount_paid: Decimal
    auto_send: bool
    end_date: date | None
    max_runs: int | None
    run_count: int
    anchor_date: date | None
    period_start: date | None
    document_id: Any
    version: int
    created_by: int
    approved_at: datetime | None
    sent_at: datetime | None
    paid_at: datetime | None
    cancelled_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    buyer_reference: str | None  # EN 16931's BT-10 (XRechnung's Leitweg-ID)
    purchase_order_reference: str | None  # BT-13
    amount_credited: Decimal  # the issued credit notes' totals (an invoice's)
    amount_refunded: Decimal  # money returned (an invoice's); amount_paid is net of it
    credited_invoice_id: int | None  # a credit note's invoice
    credit_reason: str | None  # a credit note's reason
    reminders_paused: bool  # no automatic reminder (dunning) while set

    @property
    def balance_due(self) -> Decimal:
        """Never negative: what a credit note credits beyond it goes to the customer's
        credit and out of amount_paid (migration 040's constraint). A credit note owes
        nothing: its total is what it credits, not a bill."""
        if self.type == "credit_note":
            return Decimal(0)
        return self.total - self.amount_paid - self.amount_credited


@dataclass(frozen=True)
class ListedInvoice:
    invoice: Invoice
    recipient_name: str | None
    recipient_email: str | None
    last_payment_method: str | None
    last_paid_date: date | None


COLUMNS = tuple(field.name for field in fields(Invoice))
_SELECT = ", ".join(f"i.{name}" for name in COLUMNS)
# Columns a create or an update may set (never id, company, totals, status or bookkeeping).
EDITABLE = (
    "label",
    "invoicer_id",
    "invoice_recipient_id",
    "invoicer_payment_detail_id",
    "currency",
    "scheduled_date",
    "due_date",
    "valid_until",
    "subject",
    "period",
    "recurring",
    "next_run_date",
    "invoice_parent_id",
    "description",
    "notes",
    "buyer_reference",
    "purchase_order_reference",
    "reminders_paused",
)
ITEM_COLUMNS = (
    "position",
    "label",
    "unit",
    "quantity",
    "price",
    "tax_percentage",
    "discount_percentage",
    "discount",
    "price_includes_tax",
    "price_includes_discount",
    "include",
    "product_id",
    "net",
    "tax_amount",
    "total",
    "vat_category",
    "vat_exemption_reason",
    "unit_code",
)

# The scheduler's record of a row's failures (repositories.scheduling), wiped on a success or
# an edit: the row is tried again as if new.
SCHEDULER_CLEARED: dict[str, Any] = {
    "scheduler_attempts": 0,
    "scheduler_error": None,
    "scheduler_retry_at": None,
    "scheduler_failed_at": None,
}
# Set by a new due date: its passing is announced again (by the scheduler).
OVERDUE_UNANNOUNCED: dict[str, Any] = {"overdue_announced_at": None}

NEXT_NUMBER = """
INSERT INTO number_sequences (company_id, prefix, last_value) VALUES ($1, $2, 1)
ON CONFLICT (company_id, prefix) DO UPDATE SET last_value = number_sequences.last_value + 1
RETURNING last_value
"""
# Held until commit by whoever hands out or chooses a number in the company, so a generated
# number never races a client's explicit one into the unique index.
LOCK_NUMBERS = "SELECT pg_advisory_xact_lock(hashtextextended('invoice-numbers:' || $1, 0))"
LABEL_IN_USE = "SELECT EXISTS (SELECT 1 FROM invoices WHERE company_id = $1 AND label = $2)"
LABEL_IN_USE_FOR_TYPE = (
    "SELECT EXISTS (SELECT 1 FROM invoices WHERE company_id = $1 AND label = $2 AND type = $3)"
)
LABEL_INDEX = "invoices_label_unique"  # (company_id, label, type), soft-deleted rows included
# The lock an insert's foreign key takes on its parent invoice, taken ahead of time.
LOCK_PARENT = "SELECT 1 FROM invoices WHERE id = $1 FOR KEY SHARE"
INSERT_ITEM = (
    f"INSERT INTO invoice_items (invoice_id, {', '.join(ITEM_COLUMNS)}) VALUES "
    f"($1, {', '.join(f'${i}' for i in range(2, len(ITEM_COLUMNS) + 2))})"
)
ITEMS = f"SELECT id, {', '.join(ITEM_COLUMNS)} FROM invoice_items WHERE invoice_id = $1 ORDER BY position"
DELETE_ITEMS = "DELETE FROM invoice_items WHERE invoice_id = $1"
PAYMENTS = """
SELECT id, amount, paid_date, reference, payment_method, user_id, created_at, received_payment_id,
       amount_refunded
FROM payments WHERE invoice_id = $1 ORDER BY id
"""
INSERT_PAYMENT = """
INSERT INTO payments (invoice_id, company_id, amount, paid_date, reference, payment_method, user_id,
                      received_payment_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id, amount, paid_date, reference, payment_method, user_id, created_at
"""
HISTORY = """
SELECT id, user_id, event, from_status, to_status, created_at
FROM invoice_history WHERE invoice_id = $1 ORDER BY id
"""
INSERT_HISTORY = """
INSERT INTO invoice_history (invoice_id, user_id, event, from_status, to_status)
VALUES ($1, $2, $3, $4, $5)
"""


def _invoice(record: asyncpg.Record | None) -> Invoice | None:
    if record is None:
        return None
    return Invoice(**{name: record[name] for name in COLUMNS})


def number_label(prefix: str, number: int) -> str:
    return f"{prefix}-{number:04d}"


async def lock_numbers(conn: asyncpg.Connection, company_id: int) -> None:
    await conn.execute(LOCK_NUMBERS, str(company_id))


async def lock_parent(conn: asyncpg.Connection, invoice_id: int) -> None:
    await conn.execute(LOCK_PARENT, invoice_id)


async def next_number(conn: asyncpg.Connection, company_id: int, prefix: str) -> int:
    """The next number of the prefix in the company whose label no invoice carries yet (a
    client may have chosen it); the numbers stay locked until commit."""
    await lock_numbers(conn, company_id)
    while True:
        number = int(await conn.fetchval(NEXT_NUMBER, company_id, prefix))
        if not await conn.fetchval(LABEL_IN_USE, company_id, number_label(prefix, number)):
            return number


async def label_free_for_type(
    conn: asyncpg.Connection, company_id: int, label: str, kind: str
) -> bool:
    """Whether no record of `kind` in the company carries `label` (soft-deleted ones too); the
    numbers stay locked until commit."""
    await lock_numbers(conn, company_id)
    return not await conn.fetchval(LABEL_IN_USE_FOR_TYPE, company_id, label, kind)


async def insert(conn: asyncpg.Connection, values: dict[str, Any]) -> Invoice:
    names = list(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    sql = (
        f"INSERT INTO invoices AS i ({', '.join(names)}) VALUES ({placeholders}) "
        f"RETURNING {_SELECT}"
    )
    invoice = _invoice(await conn.fetchrow(sql, *values.values()))
    assert invoice is not None
    return invoice


async def update(conn: asyncpg.Connection, invoice_id: int, values: dict[str, Any]) -> Invoice:
    """Set the given columns, bump the version (the ETag) and updated_at."""
    names = list(values)
    assignments = "".join(f"{name} = ${i}, " for i, name in enumerate(names, start=2))
    sql = (
        f"UPDATE invoices AS i SET {assignments}version = i.version + 1, updated_at = now() "
        f"WHERE i.id = $1 RETURNING {_SELECT}"
    )
    invoice = _invoice(await conn.fetchrow(sql, invoice_id, *values.values()))
    assert invoice is not None
    return invoice


# Issued: not a draft, and the issue date has come in the company's own timezone. Clients
# and the public page see only issued invoices (a scheduled one stays hidden until its day).
ISSUED = (
    "i.status <> 'draft' AND i.scheduled_date <= "
    "({}::timestamptz AT TIME ZONE (SELECT c.timezone FROM companies c WHERE c.id = i.company_id))"
    "::date"
)


def member_conditions(company_ids: list[int]) -> Conditions:
    """Members: every live invoice of their companies."""
    return Conditions().add("i.deleted_at IS NULL").add("i.company_id = ANY({})", company_ids)


def client_conditions(recipient_id: int | None, now: datetime) -> Conditions:
    """Client-portal users: their recipient's issued invoices and quotes."""
    where = Conditions().add("i.deleted_at IS NULL")
    where.add("i.invoice_recipient_id = {}", recipient_id or 0)
    return where.add("i.type IN ('invoice', 'quote')").add(ISSUED, now)


async def one(db: Db, invoice_id: int, where: Conditions, *, lock: bool = False) -> Invoice | None:
    conditions = Conditions(list(where.parts), list(where.params)).add("i.id = {}", invoice_id)
    sql = f"SELECT {_SELECT} FROM invoices i WHERE {conditions.sql}" + (
        " FOR UPDATE" if lock else ""
    )
    return _invoice(await db.fetchrow(sql, *conditions.params))


LISTED_SELECT = (
    f"SELECT {_SELECT}, r.company_entity AS recipient_name, r.email AS recipient_email, "
    "lp.payment_method AS last_payment_method, lp.paid_date AS last_paid_date "
    "FROM invoices i LEFT JOIN recipients r ON r.id = i.invoice_recipient_id "
    "LEFT JOIN LATERAL (SELECT p.payment_method, p.paid_date FROM payments p "
    " WHERE p.invoice_id = i.id ORDER BY p.id DESC LIMIT 1) lp ON true"
)


def listed(row: asyncpg.Record) -> ListedInvoice:
    """A row of LISTED_SELECT."""
    return ListedInvoice(
        _invoice(row),  # type: ignore[arg-type]
        row["recipient_name"],
        row["recipient_email"],
        row["last_payment_method"],
        row["last_paid_date"],
    )


async def insert_items(
    conn: asyncpg.Connection, invoice_id: int, items: list[dict[str, Any]]
) -> None:
    await conn.executemany(
        INSERT_ITEM, [(invoice_id, *(item[name] for name in ITEM_COLUMNS)) for item in items]
    )


async def replace_items(
    conn: asyncpg.Connection, invoice_id: int, items: list[dict[str, Any]]
) -> None:
    await conn.execute(DELETE_ITEMS, invoice_id)
    await insert_items(conn, invoice_id, items)


async def items(db: Db, invoice_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(ITEMS, invoice_id)]


async def payments(db: Db, invoice_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(PAYMENTS, invoice_id)]


async def insert_payment(
    conn: asyncpg.Connection,
    invoice: Invoice,
    amount: Decimal,
    paid_date: date,
    reference: str | None,
    method: str | None,
    user_id: int,
    received_payment_id: int | None = None,
) -> Row:
    row = await conn.fetchrow(
        INSERT_PAYMENT,
        invoice.id,
        invoice.company_id,
        amount,
        paid_date,
        reference,
        method,
        user_id,
        received_payment_id,
    )
    return dict(row)


async def history(db: Db, invoice_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(HISTORY, invoice_id)]


async def add_history(
    conn: asyncpg.Connection,
    invoice_id: int,
    user_id: int | None,
    event: str,
    from_status: str | None,
    to_status: str | None,
) -> None:
    await conn.execute(INSERT_HISTORY, invoice_id, user_id, event, from_status, to_status)


async def owned_by_company(db: Db, table: str, row_id: int, company_id: int) -> Row | None:
    """A referenced row (invoicer, recipient, payment detail, product) if it is the company's.
    `table` comes from the service's fixed list, never from input."""
    row = await db.fetchrow(
        f"SELECT * FROM {table} WHERE id = $1 AND company_id = $2", row_id, company_id
    )
    return dict(row) if row is not None else None


COMPANY_TIMEZONE = "SELECT timezone FROM companies WHERE id = $1"


async def company_timezone(db: Db, company_id: int) -> str:
    return str(await db.fetchval(COMPANY_TIMEZONE, company_id) or "UTC")


async def by_id(db: Db, invoice_id: int) -> Invoice:
    """Any invoice by id, for the scheduler (which acts for no user and checks no scope)."""
    invoice = _invoice(
        await db.fetchrow(f"SELECT {_SELECT} FROM invoices i WHERE i.id = $1", invoice_id)
    )
    assert invoice is not None
    return invoice


SET_DOCUMENT = "UPDATE invoices SET document_id = $2 WHERE id = $1"
BY_PUBLIC_ID = f"""
SELECT {_SELECT} FROM invoices i
WHERE i.public_id = $1 AND i.deleted_at IS NULL AND {ISSUED.format("$2")}
"""


async def set_document(db: Db, invoice_id: int, document_id: Any) -> None:
    """Record the current PDF. Not an edit of the invoice: no version bump, no history."""
    await db.execute(SET_DOCUMENT, invoice_id, document_id)


async def by_public_id(db: Db, public_id: str, now: datetime) -> Invoice | None:
    """The issued invoice behind a public link (`now` decides what is issued yet)."""
    return _invoice(await db.fetchrow(BY_PUBLIC_ID, public_id, now))
