"""SQL for Idempotency-Key records (kept 24 hours)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

CLAIM = """
INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING RETURNING key
"""
FIND = """
SELECT request_hash, status, body, content_type FROM idempotency_keys
WHERE user_id = $1 AND key = $2 AND created_at > now() - interval '24 hours'
"""
DELETE_EXPIRED = """
DELETE FROM idempotency_keys
WHERE user_id = $1 AND key = $2 AND created_at <= now() - interval '24 hours'
"""
STORE = """
UPDATE idempotency_keys SET status = $3, body = $4, content_type = $5
WHERE user_id = $1 AND key = $2
"""
RELEASE = "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2"


@dataclass(frozen=True)
class Stored:
    request_hash: str
    status: int | None  # None while the first request runs
    body: bytes | None
    content_type: str | None


async def claim(pool: asyncpg.Pool, user_id: int, key: str, request_hash: str) -> bool:
    """True when this request is the first with the key (expired records are dropped)."""
    await pool.execute(DELETE_EXPIRED, user_id, key)
    return await pool.fetchval(CLAIM, user_id, key, request_hash) is not None


async def find(pool: asyncpg.Pool, user_id: int, key: str) -> Stored | None:
    row = await pool.fetchrow(FIND, user_id, key)
    return Stored(**dict(row)) if row else None


async def store(
    pool: asyncpg.Pool, user_id: int, key: str, status: int, body: bytes, content_type: str
) -> None:
    await pool.execute(STORE, user_id, key, status, body, content_type)


async def release(pool: asyncpg.Pool, user_id: int, key: str) -> None:
    await pool.execute(RELEASE, user_id, key)
