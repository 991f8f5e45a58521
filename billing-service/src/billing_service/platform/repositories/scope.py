"""Who the caller may see: their company memberships, or their recipient (client portal)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

MEMBERSHIPS = "SELECT company_id, role FROM company_members WHERE user_id = $1"
CLIENT_LINK = "SELECT recipient_id, company_id FROM recipient_contacts WHERE user_id = $1"
CURRENT_COMPANY = "SELECT current_company_id FROM user_preferences WHERE user_id = $1"
# The company a record belongs to, whoever's it is (a body or query may name any id): tells
# another tenant's record from an id that exists nowhere. Keyed by table: never input.
OWNER_COMPANY = {
    "companies": "SELECT id FROM companies WHERE id = $1",
    "organisations": "SELECT company_id FROM organisations WHERE id = $1",
    "invoicers": "SELECT company_id FROM invoicers WHERE id = $1",
    "payment_details": "SELECT company_id FROM payment_details WHERE id = $1",
    "recipients": "SELECT company_id FROM recipients WHERE id = $1",
    "products": "SELECT company_id FROM products WHERE id = $1",
    "invoices": "SELECT company_id FROM invoices WHERE id = $1",
}
SET_CURRENT_COMPANY = """
INSERT INTO user_preferences (user_id, current_company_id) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET current_company_id = EXCLUDED.current_company_id
"""


@dataclass(frozen=True)
class ClientLink:
    recipient_id: int
    company_id: int


async def memberships(db: asyncpg.Pool | asyncpg.Connection, user_id: int) -> dict[int, str]:
    return {row["company_id"]: row["role"] for row in await db.fetch(MEMBERSHIPS, user_id)}


async def client_link(db: asyncpg.Pool | asyncpg.Connection, user_id: int) -> ClientLink | None:
    row = await db.fetchrow(CLIENT_LINK, user_id)
    return ClientLink(row["recipient_id"], row["company_id"]) if row else None


async def current_company(db: asyncpg.Pool | asyncpg.Connection, user_id: int) -> int | None:
    value = await db.fetchval(CURRENT_COMPANY, user_id)
    return int(value) if value is not None else None


async def set_current_company(
    db: asyncpg.Pool | asyncpg.Connection, user_id: int, company_id: int
) -> None:
    await db.execute(SET_CURRENT_COMPANY, user_id, company_id)


async def owner_company(
    db: asyncpg.Pool | asyncpg.Connection, table: str, row_id: int
) -> int | None:
    value = await db.fetchval(OWNER_COMPANY[table], row_id)
    return int(value) if value is not None else None
