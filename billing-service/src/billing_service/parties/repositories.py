"""Table definitions of the plain resources, and their few queries beyond generic CRUD."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from billing_service.platform.repositories.crud import Db, Row, Table, containing
from billing_service.platform.repositories.sql import Conditions

ORGANISATIONS = Table(
    "organisations", ("name", "slug", "is_default"), ("name", "slug", "is_default")
)

# The structured address and identifiers e-invoices need (migration 015).
_EINVOICE_PARTY_FIELDS = (
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "country_code",
    "vat_id",
    "peppol_id",
)
_INVOICER_FIELDS = (
    "company_entity",
    "description",
    "company_tax_number",
    "company_registration_number",
    "company_address",
    "currency",
    "tax_rate",
    "is_default",
    *_EINVOICE_PARTY_FIELDS,
    "contact_name",
    "email",
    "phone",
)
INVOICERS = Table("invoicers", _INVOICER_FIELDS, _INVOICER_FIELDS)

_PAYMENT_DETAIL_FIELDS = (
    "label",
    "bank_name",
    "account_name",
    "account_number",
    "iban",
    "swift",
    "is_default",
)
PAYMENT_DETAILS = Table(
    "payment_details",
    ("invoicer_id", *_PAYMENT_DETAIL_FIELDS),
    ("invoicer_id", *_PAYMENT_DETAIL_FIELDS),
)

_RECIPIENT_FIELDS = (
    "organisation_id",
    "company_entity",
    "contact_name",
    "email",
    "phone",
    "description",
    "company_tax_number",
    "company_registration_number",
    "company_address",
    "currency",
    "tax_rate",
    "default_hour_rate",
    "is_default",
    *_EINVOICE_PARTY_FIELDS,
    "buyer_reference",
    "reminders_paused",
)
# Archived recipients (deleted customers their invoices still name) are found by no lookup.
RECIPIENTS = Table(
    "recipients", _RECIPIENT_FIELDS, _RECIPIENT_FIELDS, hidden="archived_at IS NOT NULL"
)

_PRODUCT_FIELDS = (
    "type",
    "name",
    "description",
    "sku",
    "price",
    "unit",
    "tax_rate",
    "active",
    "stock_quantity",
)
# stock_quantity changes only through adjust-stock, which keeps the movement log.
PRODUCTS = Table(
    "products", _PRODUCT_FIELDS, tuple(f for f in _PRODUCT_FIELDS if f != "stock_quantity")
)


def recipient_conditions(
    where: Conditions, organisation_id: int | None, search: str | None
) -> Conditions:
    """A recipient list's filters: one organisation's, matching a search of name and e-mail."""
    if organisation_id is not None:
        where.add("organisation_id = {}", organisation_id)
    if search:
        where.add(
            "(company_entity ILIKE {0} OR contact_name ILIKE {0} OR email ILIKE {0})",
            containing(search),
        )
    return where


def product_conditions(
    where: Conditions, search: str | None, type_: str | None, active: bool | None
) -> Conditions:
    """A product list's filters: a search of name and SKU, the type, active or not."""
    if search:
        where.add("(name ILIKE {0} OR sku ILIKE {0})", containing(search))
    if type_:
        where.add("type = {}", type_)
    if active is not None:
        where.add("active = {}", active)
    return where


# What a customer has been invoiced: issued invoices, not drafts or cancelled ones.
TOTAL_INVOICED = """
SELECT invoice_recipient_id AS id, coalesce(sum(total), 0) AS total_invoiced
FROM invoices
WHERE invoice_recipient_id = ANY($1) AND type = 'invoice' AND deleted_at IS NULL
  AND status NOT IN ('draft', 'scheduled', 'cancelled')
GROUP BY invoice_recipient_id
"""
PAYMENT_DETAILS_OF = f"""
SELECT {PAYMENT_DETAILS.select_list} FROM payment_details WHERE invoicer_id = $1 ORDER BY id
"""
DEFAULT_ORGANISATION = """
SELECT id FROM organisations WHERE company_id = $1 ORDER BY is_default DESC, id LIMIT 1
"""
ADJUST_STOCK = """
UPDATE products SET stock_quantity = stock_quantity + $2, updated_at = now()
WHERE id = $1 RETURNING stock_quantity
"""
INSERT_MOVEMENT = """
INSERT INTO stock_movements (product_id, adjustment, quantity_after, reason, user_id)
VALUES ($1, $2, $3, $4, $5)
"""
RECENT_MOVEMENTS = """
SELECT id, adjustment, quantity_after, reason, user_id, created_at
FROM stock_movements WHERE product_id = $1 ORDER BY id DESC LIMIT 20
"""


async def total_invoiced(db: Db, recipient_ids: list[int]) -> dict[int, object]:
    rows = await db.fetch(TOTAL_INVOICED, recipient_ids)
    return {row["id"]: row["total_invoiced"] for row in rows}


async def payment_details_of(db: Db, invoicer_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(PAYMENT_DETAILS_OF, invoicer_id)]


async def default_organisation(db: Db, company_id: int) -> int | None:
    value = await db.fetchval(DEFAULT_ORGANISATION, company_id)
    return int(value) if value is not None else None


# A concurrent insert of the same slug waits for the first to commit, then does nothing.
INSERT_DEFAULT_ORGANISATION = """
INSERT INTO organisations (company_id, name, slug, is_default) VALUES ($1, 'Default', 'default', true)
ON CONFLICT (company_id, slug) DO NOTHING
"""


async def insert_default_organisation(conn: asyncpg.Connection, company_id: int) -> None:
    await conn.execute(INSERT_DEFAULT_ORGANISATION, company_id)


async def adjust_stock(
    conn: asyncpg.Connection, product_id: int, adjustment: object, reason: str | None, user_id: int
) -> object:
    """Apply one movement; the CHECK constraint refuses stock below zero."""
    quantity = await conn.fetchval(ADJUST_STOCK, product_id, adjustment)
    await conn.execute(INSERT_MOVEMENT, product_id, adjustment, quantity, reason, user_id)
    return quantity


async def recent_movements(db: Db, product_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(RECENT_MOVEMENTS, product_id)]


INITIAL_STOCK = "UPDATE products SET stock_quantity = $2 WHERE id = $1 RETURNING stock_quantity"


async def initial_stock(
    conn: asyncpg.Connection, product_id: int, quantity: object, user_id: int
) -> object:
    value = await conn.fetchval(INITIAL_STOCK, product_id, quantity)
    await conn.execute(INSERT_MOVEMENT, product_id, quantity, value, "Initial stock", user_id)
    return value


async def initial_stocks(
    conn: asyncpg.Connection, stocks: list[tuple[int, Decimal]], user_id: int
) -> dict[int, Decimal]:
    """`initial_stock` for many products (an import), pipelined; product id -> quantity."""
    if not stocks:
        return {}
    quantities = await conn.fetchmany(INITIAL_STOCK, stocks)
    after = {
        product_id: record[0] for (product_id, _), record in zip(stocks, quantities, strict=True)
    }
    await conn.executemany(
        INSERT_MOVEMENT,
        [
            (product_id, stock, after[product_id], "Initial stock", user_id)
            for product_id, stock in stocks
        ],
    )
    return after


RECENT_INVOICES = """
SELECT id, label, type, status, currency, total, amount_paid, amount_credited, scheduled_date, due_date
FROM invoices WHERE invoice_recipient_id = $1 AND deleted_at IS NULL AND type = ANY($2::text[])
ORDER BY id DESC LIMIT 10
"""
RECENT_PAYMENTS = """
SELECT p.id, p.invoice_id, i.label, i.currency, p.amount, p.paid_date, p.reference,
       p.payment_method
FROM payments p JOIN invoices i ON i.id = p.invoice_id
WHERE i.invoice_recipient_id = $1 ORDER BY p.id DESC LIMIT 10
"""


async def recent_invoices(db: Db, recipient_id: int, types: list[str]) -> list[Row]:
    return [dict(row) for row in await db.fetch(RECENT_INVOICES, recipient_id, types)]


async def recent_payments(db: Db, recipient_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(RECENT_PAYMENTS, recipient_id)]


CONTACTS = """
SELECT user_id, recipient_id, email, name, created_at
FROM recipient_contacts WHERE recipient_id = $1 ORDER BY created_at
"""
INSERT_CONTACT = """
INSERT INTO recipient_contacts (user_id, recipient_id, company_id, email, name)
VALUES ($1, $2, $3, $4, $5) RETURNING user_id, recipient_id, email, name, created_at
"""


async def contacts(db: Db, recipient_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(CONTACTS, recipient_id)]


async def insert_contact(
    db: Db, user_id: int, recipient_id: int, company_id: int, email: str, name: str
) -> Row:
    row = await db.fetchrow(INSERT_CONTACT, user_id, recipient_id, company_id, email, name)
    return dict(row)


# --- an invoice's parties by default (InvoiceFlow sends no invoicer and no currency) -------

# The default invoicer first; a second row tells "the only one" from "one of several".
INVOICER_CANDIDATES = """
SELECT * FROM invoicers WHERE company_id = $1 ORDER BY is_default DESC, id LIMIT 2
"""
# The payment detail a new invoice of the invoicer carries when it names none.
DEFAULT_PAYMENT_DETAIL = """
SELECT * FROM payment_details WHERE invoicer_id = $1 AND is_default ORDER BY id LIMIT 1
"""
# Concurrent first invoices of a company queue here; the later ones find the new invoicer.
LOCK_DEFAULT_INVOICER = (
    "SELECT pg_advisory_xact_lock(hashtextextended('default-invoicer:' || $1::bigint, 0))"
)
# Key-share locked: a company deleted meanwhile waits for this request, or is gone already.
COMPANY_IDENTITY = (
    "SELECT name, trim(currency) AS currency FROM companies WHERE id = $1 FOR KEY SHARE"
)


async def invoicer_candidates(db: Db, company_id: int) -> list[Row]:
    return [dict(row) for row in await db.fetch(INVOICER_CANDIDATES, company_id)]


async def default_payment_detail(db: Db, invoicer_id: int) -> Row | None:
    row = await db.fetchrow(DEFAULT_PAYMENT_DETAIL, invoicer_id)
    return dict(row) if row is not None else None


async def lock_default_invoicer(conn: asyncpg.Connection, company_id: int) -> None:
    await conn.execute(LOCK_DEFAULT_INVOICER, company_id)


async def company_identity(db: Db, company_id: int) -> Row | None:
    """The company's name and currency: what an invoicer made from the company carries."""
    row = await db.fetchrow(COMPANY_IDENTITY, company_id)
    return dict(row) if row is not None else None


# --- archived customers -----------------------------------------------------------------

# What a customer still owes or will be billed: unpaid invoices (drafts and scheduled ones
# included: they are bills in the making) and recurring templates that still run.
OPEN_BILLING = """
SELECT
  count(*) FILTER (WHERE type IN ('invoice', 'quote')) AS unpaid_invoices,
  count(*) FILTER (WHERE type = 'recurring') AS running_templates
FROM invoices
WHERE invoice_recipient_id = $1 AND deleted_at IS NULL AND (
  (type = 'invoice' AND status IN ('draft', 'scheduled'))
  -- An open quote could still be sent to the customer and become an invoice.
  OR (type = 'quote' AND status IN ('draft', 'scheduled', 'due', 'sent', 'approved'))
  OR (type = 'invoice' AND status IN ('due', 'approved', 'sent') AND total > amount_paid + amount_credited)
  OR (type = 'recurring' AND status <> 'cancelled')
)
"""
# The currencies the customer holds credit in (receivables' customer_credits).
HELD_CREDIT = """
SELECT coalesce(array_agg(currency ORDER BY currency), '{}') FROM customer_credits
WHERE recipient_id = $1 AND available > 0
"""
IS_REFERENCED = "SELECT EXISTS (SELECT 1 FROM invoices WHERE invoice_recipient_id = $1)"
ARCHIVE = "UPDATE recipients SET archived_at = now(), updated_at = now() WHERE id = $1"
DELETE_CONTACTS = "DELETE FROM recipient_contacts WHERE recipient_id = $1"
# Key-share locked: an archive (which locks the row for update) waits for the invoice being
# written to commit, and then counts it; or the invoice waits and sees the archive.
IS_ARCHIVED = "SELECT archived_at IS NOT NULL FROM recipients WHERE id = $1 FOR KEY SHARE"


async def open_billing(db: Db, recipient_id: int) -> tuple[int, int]:
    """(unpaid invoices, running recurring templates) of the recipient."""
    row = await db.fetchrow(OPEN_BILLING, recipient_id)
    return int(row["unpaid_invoices"]), int(row["running_templates"])


async def held_credit(db: Db, recipient_id: int) -> list[str]:
    """The currencies in which the recipient has credit available."""
    return [currency.strip() for currency in await db.fetchval(HELD_CREDIT, recipient_id)]


async def is_referenced(db: Db, recipient_id: int) -> bool:
    """Named by any invoice, deleted ones included (their rows still point at it)."""
    return bool(await db.fetchval(IS_REFERENCED, recipient_id))


async def archive(conn: asyncpg.Connection, recipient_id: int) -> None:
    """Hide the recipient everywhere but on its invoices; its client-portal links go."""
    await conn.execute(DELETE_CONTACTS, recipient_id)
    await conn.execute(ARCHIVE, recipient_id)


async def is_archived(conn: asyncpg.Connection, recipient_id: int) -> bool:
    return bool(await conn.fetchval(IS_ARCHIVED, recipient_id))


LOCK_ORGANISATION_SLUGS = (
    "SELECT pg_advisory_xact_lock(hashtextextended('organisation-slugs:' || $1::bigint::text, 0))"
)
ORGANISATION_SLUGS = "SELECT slug FROM organisations WHERE company_id = $1 AND id <> $2"


async def lock_organisation_slugs(conn: Db, company_id: int) -> None:
    await conn.execute(LOCK_ORGANISATION_SLUGS, company_id)


async def organisation_slugs(conn: Db, company_id: int, *, except_id: int) -> set[str]:
    return {row["slug"] for row in await conn.fetch(ORGANISATION_SLUGS, company_id, except_id)}


# --- invoicer logos -----------------------------------------------------------------------


@dataclass(frozen=True)
class Logo:
    invoicer_id: int
    media_type: str
    width: int
    height: int
    image: bytes
    updated_at: datetime


_LOGO_COLUMNS = "invoicer_id, media_type, width, height, image, updated_at"
PUT_LOGO = f"""
INSERT INTO invoicer_logos (invoicer_id, company_id, media_type, width, height, image)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (invoicer_id) DO UPDATE SET media_type = EXCLUDED.media_type,
    width = EXCLUDED.width, height = EXCLUDED.height, image = EXCLUDED.image, updated_at = now()
RETURNING {_LOGO_COLUMNS}
"""
DELETE_LOGO = "DELETE FROM invoicer_logos WHERE invoicer_id = $1 RETURNING invoicer_id"
LOGO_OF = f"SELECT {_LOGO_COLUMNS} FROM invoicer_logos WHERE invoicer_id = $1"


def _logo(row: asyncpg.Record) -> Logo:
    return Logo(
        row["invoicer_id"],
        row["media_type"],
        row["width"],
        row["height"],
        bytes(row["image"]),
        row["updated_at"],
    )


async def put_logo(
    db: Db,
    invoicer_id: int,
    company_id: int,
    media_type: str,
    width: int,
    height: int,
    image: bytes,
) -> Logo:
    row = await db.fetchrow(PUT_LOGO, invoicer_id, company_id, media_type, width, height, image)
    return _logo(row)


async def delete_logo(db: Db, invoicer_id: int) -> bool:
    return await db.fetchval(DELETE_LOGO, invoicer_id) is not None


async def logo_of(db: Db, invoicer_id: int) -> Logo | None:
    row = await db.fetchrow(LOGO_OF, invoicer_id)
    return _logo(row) if row is not None else None
