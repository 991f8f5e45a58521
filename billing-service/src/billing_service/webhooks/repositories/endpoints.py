"""SQL of the webhooks API: endpoints (their secrets never read back), the delivery log, the
event log's pages, redelivery. Lists page by a keyset on their bigint order (newest first),
or by offset."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from billing_service.events.repositories import WAKE_DELIVERIES
from billing_service.platform.repositories.crud import Db, Row, Table
from billing_service.platform.repositories.sql import Conditions

# The secrets are written, never selected: no answer can carry one by accident.
ENDPOINTS = Table(
    "webhook_endpoints",
    ("url", "description", "events", "enabled", "disabled_reason", "failing_since"),
    ("url", "description", "events", "enabled", "secret", "failing_since", "disabled_reason"),
)


@dataclass(frozen=True)
class Window:
    """Which rows of a newest-first list: after a keyset (`before`: the last order value
    seen), else from `offset`; at most `limit`."""

    limit: int
    offset: int = 0
    before: int | None = None


async def rotate_secret(db: Db, endpoint_id: int, sealed: str, overlap_until: datetime) -> Row:
    """The new secret signs from now on; the current one keeps signing until
    `overlap_until` (a receiver has time to take the new one)."""
    sql = (
        "UPDATE webhook_endpoints SET previous_secret = secret, "
        "previous_secret_expires_at = $3, secret = $2, updated_at = now() "
        f"WHERE id = $1 RETURNING {ENDPOINTS.select_list}"
    )
    record = await db.fetchrow(sql, endpoint_id, sealed, overlap_until)
    assert record is not None
    return dict(record)


# --- the delivery log ---------------------------------------------------------------------

_ATTEMPTS = """
SELECT a.id, a.delivery_id, e.id AS event_id, e.type AS event_type, a.attempt,
       a.status_code, a.duration_ms, a.error, a.next_attempt_at, a.redelivery, a.created_at
FROM webhook_attempts a
JOIN webhook_deliveries d ON d.id = a.delivery_id
JOIN events e ON e.seq = d.event_seq
"""
# An attempt succeeded when the receiver answered 2xx (the delivery loop's rule).
SUCCEEDED = "(a.status_code BETWEEN 200 AND 299)"


def attempt_conditions(endpoint_id: int, outcome: str | None) -> Conditions:
    where = Conditions().add("a.endpoint_id = {}", endpoint_id)
    if outcome == "succeeded":
        where.add(SUCCEEDED)
    elif outcome == "failed":
        where.add(f"NOT coalesce({SUCCEEDED}, false)")
    return where


async def attempts(db: Db, where: Conditions, window: Window) -> list[Row]:
    return await _newest_first(db, _ATTEMPTS, where, "a.id", window)


async def count_attempts(db: Db, where: Conditions, cap: int) -> int:
    return await _count(db, "FROM webhook_attempts a", where, cap)


@dataclass(frozen=True)
class Delivery:
    id: int
    endpoint_id: int
    status: str


async def delivery_of(db: Db, endpoint_id: int, delivery_id: int, *, lock: bool) -> Delivery | None:
    sql = (
        "SELECT id, endpoint_id, status FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2"
    )
    record = await db.fetchrow(sql + (" FOR UPDATE" if lock else ""), delivery_id, endpoint_id)
    return Delivery(**dict(record)) if record is not None else None


async def delivery_for_event(db: Db, endpoint_id: int, event_id: str) -> int | None:
    sql = (
        "SELECT d.id FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq "
        "WHERE d.endpoint_id = $1 AND e.id = $2"
    )
    found = await db.fetchval(sql, endpoint_id, event_id)
    return int(found) if found is not None else None


async def redeliver(db: Db, delivery_id: int, now: datetime) -> None:
    """Pending again and due now, with a fresh retry schedule; its next attempt is logged as
    a redelivery (migration 017 says how the delivery loop carries the flag)."""
    await db.execute(REDELIVER, delivery_id, now)


# The delivery loops are woken at commit (repositories.events.WAKE_DELIVERIES).
REDELIVER = f"""
WITH moved AS (
    UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2,
        completed_at = NULL, redelivery = true
    WHERE id = $1
    RETURNING id
)
SELECT pg_notify('{WAKE_DELIVERIES}', '') FROM moved
"""
# Endpoints of a company, counted under a lock of the company's endpoint count until the
# transaction ends (concurrent creates cannot all see room for one more).
LOCK_COUNT = "SELECT pg_advisory_xact_lock(hashtextextended('webhook-endpoints:' || $1, 0))"
COUNT_ENDPOINTS = "SELECT count(*) FROM webhook_endpoints WHERE company_id = $1"


async def endpoints_of_company(conn: asyncpg.Connection, company_id: int) -> int:
    await conn.execute(LOCK_COUNT, str(company_id))
    return int(await conn.fetchval(COUNT_ENDPOINTS, company_id))


# --- the event log ------------------------------------------------------------------------

_EVENTS = "SELECT seq, id, type, created_at, data, company_id FROM events"


def event_conditions(
    company_ids: list[int], event_type: str | None, since_seq: int | None
) -> Conditions:
    """The companies' events; of one type, or of a family (`invoice.*`); after `since_seq`."""
    where = Conditions().add("company_id = ANY({})", company_ids)
    if event_type is not None and event_type.endswith(".*"):
        where.add("type LIKE {}", event_type.removesuffix("*").replace("_", "\\_") + "%")
    elif event_type is not None:
        where.add("type = {}", event_type)
    if since_seq is not None:
        where.add("seq > {}", since_seq)
    return where


async def events(db: Db, where: Conditions, window: Window) -> list[Row]:
    rows = await _newest_first(db, _EVENTS, where, "seq", window)
    return [row | {"data": json.loads(row["data"])} for row in rows]


async def count_events(db: Db, where: Conditions, cap: int) -> int:
    return await _count(db, "FROM events", where, cap)


async def event(db: Db, event_id: str, company_ids: list[int]) -> Row | None:
    record = await db.fetchrow(
        f"{_EVENTS} WHERE id = $1 AND company_id = ANY($2)", event_id, company_ids
    )
    return dict(record) | {"data": json.loads(record["data"])} if record is not None else None


async def event_seq(db: Db, event_id: str, company_ids: list[int]) -> int | None:
    found = await db.fetchval(
        "SELECT seq FROM events WHERE id = $1 AND company_id = ANY($2)", event_id, company_ids
    )
    return int(found) if found is not None else None


# --- pages --------------------------------------------------------------------------------


async def _newest_first(
    db: Db, select: str, where: Conditions, order: str, window: Window
) -> list[Row]:
    where = Conditions(list(where.parts), list(where.params))
    if window.before is not None:
        where.add(f"{order} < {{}}", window.before)
    limit_at, offset_at = where.param(window.limit), where.param(window.offset)
    sql = f"{select} WHERE {where.sql} ORDER BY {order} DESC LIMIT {limit_at} OFFSET {offset_at}"
    return [dict(record) for record in await db.fetch(sql, *where.params)]


async def _count(db: Db, source: str, where: Conditions, cap: int) -> int:
    """Matching rows, counted up to `cap` (a bounded cost however long the log)."""
    where = Conditions(list(where.parts), list(where.params))
    cap_at = where.param(cap)
    sql = f"SELECT count(*) FROM (SELECT 1 {source} WHERE {where.sql} LIMIT {cap_at}) t"
    return int(await db.fetchval(sql, *where.params))
