"""SQL of exports (one SELECT per kind, its column aliases the CSV header) and of the checks an
import makes against the records already there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date

import asyncpg
import asyncpg.cursor

# Each export: its SELECT (the company $1, the first day $2 and the last day $3, both
# optional, on the kind's natural date), in id order so that a file is stable.
_CREATED_ON = "(created_at AT TIME ZONE (SELECT timezone FROM companies WHERE id = $1))::date"
EXPORTS: dict[str, str] = {
    "invoices": """
SELECT i.id, i.label AS invoice_number, i.type, i.status, i.scheduled_date AS issue_date,
       i.due_date, i.currency, i.invoice_recipient_id AS customer_id,
       r.company_entity AS customer_name, r.email AS customer_email, i.subject,
       i.subtotal, i.tax, i.total, i.amount_paid, i.amount_credited,
       CASE WHEN i.type = 'credit_note' THEN 0  -- a credit note owes nothing (as the API)
            ELSE i.total - i.amount_paid - i.amount_credited END AS balance_due,
       i.credited_invoice_id,
       i.approved_at, i.sent_at, i.paid_at, i.cancelled_at, i.created_at
FROM invoices i LEFT JOIN recipients r ON r.id = i.invoice_recipient_id
WHERE i.company_id = $1 AND i.deleted_at IS NULL AND i.type IN ('invoice', 'credit_note')
  AND ($2::date IS NULL OR i.scheduled_date >= $2)
  AND ($3::date IS NULL OR i.scheduled_date <= $3)
ORDER BY i.id
""",
    "payments": """
SELECT p.id, p.paid_date, p.invoice_id, i.label AS invoice_number,
       i.invoice_recipient_id AS customer_id, r.company_entity AS customer_name, i.currency,
       p.amount, p.amount_refunded, p.payment_method, p.reference, p.received_payment_id,
       p.created_at
FROM payments p JOIN invoices i ON i.id = p.invoice_id
LEFT JOIN recipients r ON r.id = i.invoice_recipient_id
WHERE p.company_id = $1
  AND ($2::date IS NULL OR p.paid_date >= $2)
  AND ($3::date IS NULL OR p.paid_date <= $3)
ORDER BY p.id
""",
    "customers": f"""
SELECT id, company_entity AS company_name, contact_name, email, phone, description,
       company_tax_number, company_registration_number, vat_id, peppol_id, buyer_reference,
       company_address, address_line1, address_line2, city, postcode, country_code,
       currency, tax_rate, default_hour_rate, created_at
FROM recipients
WHERE company_id = $1 AND archived_at IS NULL
  AND ($2::date IS NULL OR {_CREATED_ON} >= $2)
  AND ($3::date IS NULL OR {_CREATED_ON} <= $3)
ORDER BY id
""",
    "products": f"""
SELECT id, type, name, description, sku, price, unit, tax_rate, active, stock_quantity,
       created_at
FROM products
WHERE company_id = $1
  AND ($2::date IS NULL OR {_CREATED_ON} >= $2)
  AND ($3::date IS NULL OR {_CREATED_ON} <= $3)
ORDER BY id
""",
}


@dataclass
class ExportRows:
    """An export's header and its rows, fetched `batch` at a time from a server-side cursor."""

    columns: tuple[str, ...]
    cursor: asyncpg.cursor.Cursor
    batch: int

    async def batches(self) -> AsyncIterator[list[asyncpg.Record]]:
        while rows := await self.cursor.fetch(self.batch):
            yield rows


@asynccontextmanager
async def export_rows(
    pool: asyncpg.Pool, kind: str, company_id: int, since: date | None, until: date | None,
    batch: int,
) -> AsyncIterator[ExportRows]:  # fmt: skip
    """The rows, read inside a read-only repeatable-read transaction (one snapshot for the
    whole file) on a connection held while the file is written, and only then."""
    async with (
        pool.acquire() as conn,
        conn.transaction(readonly=True, isolation="repeatable_read"),
    ):
        statement = await conn.prepare(EXPORTS[kind])
        columns = tuple(attribute.name for attribute in statement.get_attributes())
        yield ExportRows(columns, await statement.cursor(company_id, since, until), batch)


async def lock_imports(conn: asyncpg.Connection, kind: str, company_id: int) -> None:
    """One import of a kind per company at a time (until the transaction ends), so that two
    imports cannot both find a new e-mail or SKU free and both add it."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1), $2::int)", f"import:{kind}",
                       company_id % 2_147_483_647)  # fmt: skip


# What an import refuses to add twice: a customer's e-mail, a product's SKU.
_UNIQUE = {
    "customers": "SELECT DISTINCT lower(email) FROM recipients WHERE company_id = $1 "
    "AND archived_at IS NULL AND lower(email) = ANY($2::text[])",
    "products": "SELECT DISTINCT lower(sku) FROM products WHERE company_id = $1 "
    "AND lower(sku) = ANY($2::text[])",
}


async def taken(
    conn: asyncpg.Connection, kind: str, company_id: int, values: list[str]
) -> set[str]:
    """Which of these (lower-case) e-mails or SKUs a record of the company already has."""
    return {row[0] for row in await conn.fetch(_UNIQUE[kind], company_id, values)}
