"""SQL for personal access tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class AccessToken:
    id: int
    user_id: int
    name: str
    token: str  # SHA-256 hex of the secret
    abilities: list[str]
    last_used_at: datetime | None
    expires_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class TokenOwner:
    token: AccessToken
    user_kind: str


_COLUMNS = (
    "t.id, t.user_id, t.name, t.token, t.abilities, t.last_used_at, t.expires_at, t.created_at"
)

INSERT = """
INSERT INTO personal_access_tokens (user_id, name, token, abilities, expires_at)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, user_id, name, token, abilities, last_used_at, expires_at, created_at
"""
WITH_OWNER_BY_ID = f"""
SELECT {_COLUMNS}, u.kind AS user_kind
FROM personal_access_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1
"""
WITH_OWNER_BY_HASH = f"""
SELECT {_COLUMNS}, u.kind AS user_kind
FROM personal_access_tokens t JOIN users u ON u.id = t.user_id WHERE t.token = $1
"""
FOR_USER = f"""
SELECT {_COLUMNS} FROM personal_access_tokens t WHERE t.user_id = $1 ORDER BY t.id
"""
DELETE_OWN = "DELETE FROM personal_access_tokens WHERE id = $1 AND user_id = $2 RETURNING token"
DELETE_ALL_OF_USER = "DELETE FROM personal_access_tokens WHERE user_id = $1 RETURNING token"
TOUCH = "UPDATE personal_access_tokens SET last_used_at = $2 WHERE id = ANY($1::bigint[])"


def _token(row: asyncpg.Record) -> AccessToken:
    return AccessToken(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        token=row["token"],
        abilities=list(row["abilities"]),
        last_used_at=row["last_used_at"],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
    )


async def insert(
    pool: asyncpg.Pool,
    *,
    user_id: int,
    name: str,
    token_hash: str,
    abilities: list[str],
    expires_at: datetime | None,
) -> AccessToken:
    row = await pool.fetchrow(INSERT, user_id, name, token_hash, abilities, expires_at)
    return _token(row)


async def with_owner(
    pool: asyncpg.Pool, token_id: int | None, token_hash: str
) -> TokenOwner | None:
    if token_id is not None:
        row = await pool.fetchrow(WITH_OWNER_BY_ID, token_id)
    else:
        row = await pool.fetchrow(WITH_OWNER_BY_HASH, token_hash)
    return TokenOwner(_token(row), row["user_kind"]) if row is not None else None


async def for_user(pool: asyncpg.Pool, user_id: int) -> list[AccessToken]:
    return [_token(row) for row in await pool.fetch(FOR_USER, user_id)]


async def delete_own(conn: asyncpg.Connection, token_id: int, user_id: int) -> str | None:
    """Delete one of the user's tokens; its hash, or None when it is not theirs."""
    value = await conn.fetchval(DELETE_OWN, token_id, user_id)
    return str(value) if value is not None else None


async def delete_all_of_user(conn: asyncpg.Connection, user_id: int) -> list[str]:
    """Delete every token of the user; their hashes (the gateway's cache keys)."""
    return [str(row["token"]) for row in await conn.fetch(DELETE_ALL_OF_USER, user_id)]


async def touch(pool: asyncpg.Pool, token_ids: list[int], used_at: datetime) -> None:
    await pool.execute(TOUCH, token_ids, used_at)
