"""asyncpg pool as a cleanup_ctx resource, and the SQL migration runner."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
from aiohttp import web

from shared.logging import get_logger

log = get_logger("shared.db")

# Every service applies migrations under this advisory lock, so replicas starting together
# never race on the schema.
_MIGRATION_LOCK_ID = 0x6D6967726174
_MIGRATION_FILE = re.compile(r"^(\d+)_[\w-]+\.sql$")


async def _session_is_clean(_: asyncpg.Connection) -> None:
    """The pool's reset of a released connection, beyond the rollback of an open transaction
    asyncpg always does: nothing. Its default (RESET ALL, CLOSE ALL, UNLISTEN *, advisory
    unlocks) was a query, a round trip, per pool query. This code keeps no session state:
    its locks are pg_advisory_xact_lock, its cursors and settings live in transactions, it
    listens to nothing, and the migration lock is released explicitly."""


# A connect that gets no answer (the database's host gone) fails after this, as a 503, rather
# than holding its request for asyncpg's default minute.
CONNECT_TIMEOUT_SECONDS = 10


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=30,
        timeout=CONNECT_TIMEOUT_SECONDS,
        reset=_session_is_clean,
    )
    assert pool is not None
    return pool


def pool_context(
    key: web.AppKey[asyncpg.Pool],
    dsn: Callable[[web.Application], str],
    *,
    migrations: Path | None = None,
    max_size: int = 10,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx that opens the pool, applies migrations, and closes the pool on exit."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        pool = await create_pool(dsn(app), max_size=max_size)
        if migrations is not None:
            await apply_migrations(pool, migrations)
        app[key] = pool
        yield
        await pool.close()

    return context


def migration_files(directory: Path) -> list[tuple[int, Path]]:
    found = []
    for path in directory.iterdir():
        match = _MIGRATION_FILE.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    versions = [version for version, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"duplicate migration numbers in {directory}")
    return sorted(found)


async def apply_migrations(pool: asyncpg.Pool, directory: Path) -> list[int]:
    """Apply each pending numbered .sql file in its own transaction; returns what was applied."""
    applied_now: list[int] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_ID)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {
                row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")
            }
            for version, path in migration_files(directory):
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(path.read_text())
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        version,
                        path.name,
                    )
                applied_now.append(version)
                log.info("migration_applied", version=version, name=path.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK_ID)
    return applied_now


async def check_pool(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
