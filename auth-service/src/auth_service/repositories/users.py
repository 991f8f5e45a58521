"""SQL for users. Returns dataclasses, never records."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import asyncpg

PROFILE_FIELDS = (
    "name",
    "first_name",
    "last_name",
    "email",
    "company_name",
    "address1",
    "address2",
    "city",
    "state",
    "postcode",
    "country",
    "phone",
)


@dataclass(frozen=True)
class User:
    id: int
    kind: str
    name: str
    first_name: str | None
    last_name: str | None
    email: str
    password_hash: str
    company_name: str | None
    address1: str | None
    address2: str | None
    city: str | None
    state: str | None
    postcode: str | None
    country: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime


_COLUMNS = ", ".join(field.name for field in fields(User))

BY_EMAIL = f"SELECT {_COLUMNS} FROM users WHERE lower(email) = lower($1)"
BY_ID = f"SELECT {_COLUMNS} FROM users WHERE id = $1"
BY_IDS = f"SELECT {_COLUMNS} FROM users WHERE id = ANY($1::bigint[]) ORDER BY id"
INSERT = f"""
INSERT INTO users (kind, name, first_name, last_name, email, password_hash)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING
RETURNING {_COLUMNS}
"""
SET_PASSWORD_HASH = "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1"
DELETE = "DELETE FROM users WHERE id = $1 RETURNING id"


def _user(row: asyncpg.Record | None) -> User | None:
    return User(**dict(row)) if row is not None else None


async def by_email(conn: asyncpg.Connection | asyncpg.Pool, email: str) -> User | None:
    return _user(await conn.fetchrow(BY_EMAIL, email))


async def by_id(conn: asyncpg.Connection | asyncpg.Pool, user_id: int) -> User | None:
    return _user(await conn.fetchrow(BY_ID, user_id))


async def by_ids(conn: asyncpg.Connection | asyncpg.Pool, user_ids: list[int]) -> list[User]:
    return [User(**dict(row)) for row in await conn.fetch(BY_IDS, user_ids)]


async def insert(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    kind: str,
    name: str,
    email: str,
    password_hash: str,
    first_name: str | None = None,
    last_name: str | None = None,
) -> User | None:
    """The new user, or None when the e-mail is taken."""
    row = await conn.fetchrow(INSERT, kind, name, first_name, last_name, email, password_hash)
    return _user(row)


async def set_password_hash(conn: asyncpg.Pool, user_id: int, password_hash: str) -> None:
    await conn.execute(SET_PASSWORD_HASH, user_id, password_hash)


async def delete(conn: asyncpg.Connection, user_id: int) -> bool:
    """Delete the user (their tokens go with them); False when there was none."""
    return await conn.fetchval(DELETE, user_id) is not None


async def update_profile(conn: asyncpg.Pool, user_id: int, changes: dict[str, Any]) -> User:
    """Update only the given profile columns (names come from PROFILE_FIELDS, never input)."""
    columns = [name for name in PROFILE_FIELDS if name in changes]
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
    sql = f"UPDATE users SET {assignments}, updated_at = now() WHERE id = $1 RETURNING {_COLUMNS}"
    row = await conn.fetchrow(sql, user_id, *(changes[name] for name in columns))
    user = _user(row)
    assert user is not None
    return user
