"""SQL for companies and their members. Every read is scoped to a member's user id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

import asyncpg

Executor: TypeAlias = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True)
class Company:
    id: int
    name: str
    slug: str
    timezone: str
    role: str  # the caller's role in it
    created_at: datetime
    updated_at: datetime
    currency: str | None  # the last default of an invoice's currency
    einvoice_format: str | None = None  # what its invoice-issued e-mails attach


_SELECT = """
SELECT c.id, c.name, c.slug, c.timezone, m.role, c.created_at, c.updated_at, trim(c.currency) AS currency,
       c.einvoice_format
FROM companies c JOIN company_members m ON m.company_id = c.id AND m.user_id = $1
"""
FOR_MEMBER_PAGE = _SELECT + " ORDER BY c.id LIMIT $2 OFFSET $3"
COUNT_FOR_MEMBER = "SELECT count(*) FROM company_members WHERE user_id = $1"
ONE_FOR_MEMBER = _SELECT + " WHERE c.id = $2"
ONE_FOR_MEMBER_LOCKED = ONE_FOR_MEMBER + " FOR UPDATE OF c"
_RETURNING = (
    "id, name, slug, timezone, {role} AS role, created_at, updated_at, trim(currency) AS currency,"
    " einvoice_format"
)
INSERT = (
    "INSERT INTO companies (name, slug, created_by, timezone, currency, einvoice_format)"
    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING " + _RETURNING.format(role="'owner'")
)
ADD_MEMBER = "INSERT INTO company_members (company_id, user_id, role) VALUES ($1, $2, $3)"
SET_CURRENT_IF_NONE = """
INSERT INTO user_preferences (user_id, current_company_id) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET current_company_id = EXCLUDED.current_company_id
WHERE user_preferences.current_company_id IS NULL
"""
UPDATE = (
    "UPDATE companies SET name = $2, slug = $3, timezone = $5, currency = $6,"
    " einvoice_format = $7, updated_at = now()"
    " WHERE id = $1 RETURNING " + _RETURNING.format(role="$4::text")
)
DELETE = "DELETE FROM companies WHERE id = $1"
SLUG_TAKEN = "SELECT EXISTS (SELECT 1 FROM companies WHERE slug = $1 AND id <> $2)"
LOCK_SLUG = "SELECT pg_advisory_xact_lock(hashtext('company-slug:' || $1))"
# One personal team per user: their first requests that need one queue here.
LOCK_PERSONAL_TEAM = (
    "SELECT pg_advisory_xact_lock(hashtextextended('personal-team:' || $1::bigint, 0))"
)
SLUGS_LIKE = "SELECT slug FROM companies WHERE slug = $1 OR slug LIKE $1 || '-%'"


def _company(row: asyncpg.Record | None) -> Company | None:
    return Company(**dict(row)) if row is not None else None


async def page_for_member(db: Executor, user_id: int, limit: int, offset: int) -> list[Company]:
    rows = await db.fetch(FOR_MEMBER_PAGE, user_id, limit, offset)
    return [Company(**dict(row)) for row in rows]


async def count_for_member(db: Executor, user_id: int) -> int:
    return int(await db.fetchval(COUNT_FOR_MEMBER, user_id))


async def one_for_member(
    db: Executor, user_id: int, company_id: int, *, lock: bool = False
) -> Company | None:
    sql = ONE_FOR_MEMBER_LOCKED if lock else ONE_FOR_MEMBER
    return _company(await db.fetchrow(sql, user_id, company_id))


async def insert(
    conn: asyncpg.Connection,
    name: str,
    slug: str,
    user_id: int,
    timezone: str,
    currency: str,
    einvoice_format: str | None = None,
) -> Company:
    company = _company(
        await conn.fetchrow(INSERT, name, slug, user_id, timezone, currency, einvoice_format)
    )
    assert company is not None
    await conn.execute(ADD_MEMBER, company.id, user_id, "owner")
    await conn.execute(SET_CURRENT_IF_NONE, user_id, company.id)
    return company


async def update(
    conn: asyncpg.Connection,
    company: Company,
    name: str,
    slug: str,
    timezone: str,
    currency: str | None,
    einvoice_format: str | None = None,
) -> Company:
    updated = _company(
        await conn.fetchrow(
            UPDATE, company.id, name, slug, company.role, timezone, currency, einvoice_format
        )
    )
    assert updated is not None
    return updated


async def delete(conn: asyncpg.Connection, company_id: int) -> None:
    await conn.execute(DELETE, company_id)


async def slug_taken(db: Executor, slug: str, except_id: int = 0) -> bool:
    return bool(await db.fetchval(SLUG_TAKEN, slug, except_id))


async def slugs_like(db: Executor, base: str) -> set[str]:
    return {row["slug"] for row in await db.fetch(SLUGS_LIKE, base)}


async def lock_slug(conn: asyncpg.Connection, slug: str) -> None:
    await conn.execute(LOCK_SLUG, slug)


async def lock_personal_team(conn: asyncpg.Connection, user_id: int) -> None:
    await conn.execute(LOCK_PERSONAL_TEAM, user_id)


@dataclass(frozen=True)
class Member:
    user_id: int
    role: str
    created_at: datetime


MEMBERS = "SELECT user_id, role, created_at FROM company_members WHERE company_id = $1 ORDER BY created_at, user_id"
MEMBER = (
    "SELECT user_id, role, created_at FROM company_members WHERE company_id = $1 AND user_id = $2"
)
INSERT_MEMBER = """
INSERT INTO company_members (company_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING RETURNING user_id, role, created_at
"""
SET_ROLE = """
UPDATE company_members SET role = $3 WHERE company_id = $1 AND user_id = $2
RETURNING user_id, role, created_at
"""
REMOVE_MEMBER = "DELETE FROM company_members WHERE company_id = $1 AND user_id = $2"
COUNT_OWNERS = "SELECT count(*) FROM company_members WHERE company_id = $1 AND role = 'owner'"
HAS_INVOICES = "SELECT EXISTS (SELECT 1 FROM invoices WHERE company_id = $1)"
EINVOICE_FORMAT = "SELECT einvoice_format FROM companies WHERE id = $1"
ALL_FOR_MEMBER = _SELECT + " ORDER BY c.id"


async def members(db: Executor, company_id: int) -> list[Member]:
    return [Member(**dict(row)) for row in await db.fetch(MEMBERS, company_id)]


async def member(db: Executor, company_id: int, user_id: int) -> Member | None:
    row = await db.fetchrow(MEMBER, company_id, user_id)
    return Member(**dict(row)) if row else None


async def add_member(db: Executor, company_id: int, user_id: int, role: str) -> Member | None:
    """The new membership, or None when the user is a member already."""
    row = await db.fetchrow(INSERT_MEMBER, company_id, user_id, role)
    return Member(**dict(row)) if row else None


async def set_role(db: Executor, company_id: int, user_id: int, role: str) -> Member:
    row = await db.fetchrow(SET_ROLE, company_id, user_id, role)
    return Member(**dict(row))


async def remove_member(db: Executor, company_id: int, user_id: int) -> None:
    await db.execute(REMOVE_MEMBER, company_id, user_id)


async def count_owners(db: Executor, company_id: int) -> int:
    return int(await db.fetchval(COUNT_OWNERS, company_id))


async def has_invoices(db: Executor, company_id: int) -> bool:
    return bool(await db.fetchval(HAS_INVOICES, company_id))


async def einvoice_format(db: Executor, company_id: int) -> str | None:
    """The e-invoice the company's invoice-issued e-mails attach (None: the plain PDF)."""
    found: str | None = await db.fetchval(EINVOICE_FORMAT, company_id)
    return found


async def all_for_member(db: Executor, user_id: int) -> list[Company]:
    return [Company(**dict(row)) for row in await db.fetch(ALL_FOR_MEMBER, user_id)]


CONTACT_LOGINS = """
SELECT user_id FROM recipient_contacts
WHERE ($1::bigint IS NULL OR recipient_id = $1) AND ($2::bigint IS NULL OR company_id = $2)
"""


async def contact_logins(
    db: asyncpg.Pool | asyncpg.Connection,
    *,
    recipient_id: int | None = None,
    company_id: int | None = None,
) -> list[int]:
    """The client-portal logins (auth-service user ids) of a recipient or of a company."""
    return [row["user_id"] for row in await db.fetch(CONTACT_LOGINS, recipient_id, company_id)]
