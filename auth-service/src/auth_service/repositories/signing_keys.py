"""SQL for the identity JWTs' signing keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(frozen=True)
class StoredKey:
    kid: str
    private_pem: str
    public_jwk: dict[str, Any]


# One advisory lock id for "creating the first key" across every replica.
_KEY_CREATION_LOCK = 0x6B657973

ACTIVE_KEYS = """
SELECT kid, private_pem, public_jwk::text AS public_jwk
FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC
"""
INSERT_KEY = "INSERT INTO signing_keys (kid, private_pem, public_jwk) VALUES ($1, $2, $3::jsonb)"


def _key(row: asyncpg.Record) -> StoredKey:
    return StoredKey(row["kid"], row["private_pem"], json.loads(row["public_jwk"]))


async def active_or_first(
    pool: asyncpg.Pool, make_first: Callable[[], StoredKey]
) -> list[StoredKey]:
    """The active keys, newest first; when there is none, `make_first()` is stored and is the
    one. Replicas starting together wait for each other, so they create one key, not one each."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _KEY_CREATION_LOCK)
        keys = [_key(row) for row in await conn.fetch(ACTIVE_KEYS)]
        if not keys:
            first = make_first()
            await conn.execute(
                INSERT_KEY, first.kid, first.private_pem, json.dumps(first.public_jwk)
            )
            keys = [first]
    return keys
