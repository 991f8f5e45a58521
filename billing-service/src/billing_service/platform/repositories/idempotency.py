"""SQL for Idempotency-Key records (kept 24 hours), keyed by the caller: user and token."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

CLAIM = """
INSERT INTO idempotency_keys (user_id, token_id, key, request_hash) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING RETURNING key
"""
FIND = """
SELECT request_hash, status, body, content_type FROM idempotency_keys
WHERE user_id = $1 AND token_id = $2 AND key = $3 AND created_at > now() - interval '24 hours'
"""
# Expired: kept 24 hours; or abandoned: still unanswered long after any request could have
# run (its first request was cut off by an outage that its release could not reach either).
DELETE_EXPIRED = """
DELETE FROM idempotency_keys
WHERE user_id = $1 AND token_id = $2 AND key = $3
  AND (created_at <= now() - interval '24 hours'
       OR (status IS NULL AND created_at <= now() - make_interval(secs => $4)))
"""
ABANDONED_AFTER_SECONDS = 120.0
STORE = """
UPDATE idempotency_keys SET status = $4, body = $5, content_type = $6
WHERE user_id = $1 AND token_id = $2 AND key = $3
"""
RELEASE = "DELETE FROM idempotency_keys WHERE user_id = $1 AND token_id = $2 AND key = $3"


@dataclass(frozen=True)
class Caller:
    """Whose key it is: the same key from another token of the user is another key."""

    user_id: int
    token_id: int


@dataclass(frozen=True)
class Stored:
    request_hash: str
    status: int | None  # None while the first request runs
    body: bytes | None
    content_type: str | None


async def claim(pool: asyncpg.Pool, caller: Caller, key: str, request_hash: str) -> bool:
    """True when this request is the first with the key (expired and abandoned records are
    dropped)."""
    await pool.execute(
        DELETE_EXPIRED, caller.user_id, caller.token_id, key, ABANDONED_AFTER_SECONDS
    )
    found = await pool.fetchval(CLAIM, caller.user_id, caller.token_id, key, request_hash)
    return found is not None


async def find(pool: asyncpg.Pool, caller: Caller, key: str) -> Stored | None:
    row = await pool.fetchrow(FIND, caller.user_id, caller.token_id, key)
    return Stored(**dict(row)) if row else None


async def store(
    pool: asyncpg.Pool, caller: Caller, key: str, status: int, body: bytes, content_type: str
) -> None:
    await pool.execute(STORE, caller.user_id, caller.token_id, key, status, body, content_type)


async def release(pool: asyncpg.Pool, caller: Caller, key: str) -> None:
    await pool.execute(RELEASE, caller.user_id, caller.token_id, key)
