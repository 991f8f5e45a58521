"""SQL of the webhook delivery loop: claiming due deliveries, recording their attempts, the
endpoints' health, and pruning the event log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class DueDelivery:
    """A claimed delivery with what its attempt needs: the event and the endpoint."""

    id: int
    attempts: int
    redelivery: bool
    endpoint_id: int
    company_id: int
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    failing_since: datetime | None
    event_id: str
    event_type: str
    event_data: str  # the jsonb's text: the same bytes on every attempt
    event_created_at: datetime


# Due deliveries, fairly: at most $5 of each enabled endpoint not already at its cap in this
# replica ($4), each the earliest pending one of its subject on its endpoint (a later event of
# an invoice waits while an earlier one is being retried), oldest first; locked with SKIP
# LOCKED and leased in the same statement: next_attempt_at moves past the attempt's timeout,
# so no other replica takes them once this commits, and a replica that dies before recording
# the outcome gives them back when the lease ends. One tenant's backlog or slow receiver thus
# takes a few slots per endpoint, never the whole batch.
CLAIM = """
WITH candidates AS (
    SELECT picked.id, picked.next_attempt_at
    FROM webhook_endpoints w
    CROSS JOIN LATERAL (
        SELECT d.id, d.next_attempt_at
        FROM webhook_deliveries d
        WHERE d.endpoint_id = w.id AND d.status = 'pending' AND d.next_attempt_at <= $1
          AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries earlier
              WHERE earlier.endpoint_id = d.endpoint_id AND earlier.subject = d.subject
                AND earlier.status = 'pending' AND earlier.event_seq < d.event_seq
          )
        ORDER BY d.next_attempt_at, d.id
        LIMIT $5
    ) picked
    WHERE w.enabled AND NOT (w.id = ANY($4::bigint[]))
    ORDER BY picked.next_attempt_at, picked.id
    LIMIT $2
), due AS (
    SELECT d.id
    FROM webhook_deliveries d
    WHERE d.id IN (SELECT id FROM candidates)
      AND d.status = 'pending' AND d.next_attempt_at <= $1
    ORDER BY d.next_attempt_at, d.id
    FOR UPDATE OF d SKIP LOCKED
), claimed AS (
    UPDATE webhook_deliveries d SET next_attempt_at = $3
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.attempts, d.redelivery, d.endpoint_id, d.event_seq
)
SELECT c.id, c.attempts, c.redelivery, c.endpoint_id, w.company_id, w.url, w.secret,
       w.previous_secret, w.previous_secret_expires_at, w.failing_since,
       e.id AS event_id, e.type AS event_type, e.data::text AS event_data,
       e.created_at AS event_created_at
FROM claimed c
JOIN webhook_endpoints w ON w.id = c.endpoint_id
JOIN events e ON e.seq = c.event_seq
ORDER BY c.id
"""
# The outcome of an attempt, unless the delivery is no longer pending (redelivered or pruned
# meanwhile: the attempt is then not logged against a state it no longer describes).
FINISH = """
UPDATE webhook_deliveries
SET status = $2, attempts = $3, next_attempt_at = coalesce($4, next_attempt_at),
    completed_at = $5, redelivery = false
WHERE id = $1 AND status = 'pending'
RETURNING id
"""
LOG_ATTEMPT = """
INSERT INTO webhook_attempts
    (delivery_id, endpoint_id, attempt, status_code, duration_ms, error, next_attempt_at,
     redelivery, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
ENDPOINT_SUCCEEDED = """
UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL
"""
# Failing since the first failure after a success; the time it has been failing since.
ENDPOINT_FAILED = """
UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2) WHERE id = $1
RETURNING failing_since
"""
# Disabled once: concurrent failures of one endpoint race here, one of them wins the row.
DISABLE = """
UPDATE webhook_endpoints SET enabled = false, disabled_reason = $3, updated_at = $4
WHERE id = $1 AND enabled AND failing_since <= $2
RETURNING id
"""
OWNERS = """
SELECT m.user_id, c.name FROM company_members m JOIN companies c ON c.id = m.company_id
WHERE m.company_id = $1 AND m.role = 'owner' ORDER BY m.user_id
"""
PRUNE = """
DELETE FROM events WHERE seq IN (
    SELECT seq FROM events WHERE created_at < $1 ORDER BY created_at LIMIT $2
    FOR UPDATE SKIP LOCKED
)
"""
# The oldest pending delivery that is due (waiting for a loop, not for its retry time).
OLDEST_DUE = """
SELECT min(d.created_at) FROM webhook_deliveries d
JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
WHERE d.status = 'pending' AND d.next_attempt_at <= $1
"""


async def claim(
    conn: asyncpg.Connection,
    now: datetime,
    limit: int,
    lease_until: datetime,
    busy_endpoints: list[int],
    per_endpoint: int,
) -> list[DueDelivery]:
    # A plan made for these values: a generic plan of this statement (asyncpg prepares it)
    # scanned every pending delivery per claim once the table had grown.
    await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    rows = await conn.fetch(CLAIM, now, limit, lease_until, busy_endpoints, per_endpoint)
    return [DueDelivery(**dict(row)) for row in rows]


@dataclass(frozen=True)
class Outcome:
    status: str  # succeeded, pending (retried) or failed
    attempt: int
    status_code: int | None
    duration_ms: int
    error: str | None
    next_attempt_at: datetime | None


async def finish(
    conn: asyncpg.Connection, delivery: DueDelivery, outcome: Outcome, now: datetime
) -> bool:
    """The outcome recorded and logged; False when the delivery was no longer pending."""
    completed_at = None if outcome.status == "pending" else now
    finished = await conn.fetchval(
        FINISH, delivery.id, outcome.status, outcome.attempt, outcome.next_attempt_at, completed_at
    )
    if finished is None:
        return False
    await conn.execute(
        LOG_ATTEMPT,
        delivery.id,
        delivery.endpoint_id,
        outcome.attempt,
        outcome.status_code,
        outcome.duration_ms,
        outcome.error,
        outcome.next_attempt_at,
        delivery.redelivery,
        now,
    )
    return True


async def endpoint_succeeded(conn: asyncpg.Connection, endpoint_id: int) -> None:
    await conn.execute(ENDPOINT_SUCCEEDED, endpoint_id)


async def endpoint_failed(conn: asyncpg.Connection, endpoint_id: int, now: datetime) -> datetime:
    """Since when the endpoint has been failing."""
    since: datetime = await conn.fetchval(ENDPOINT_FAILED, endpoint_id, now)
    return since


async def disable(
    conn: asyncpg.Connection, endpoint_id: int, failing_before: datetime, reason: str, now: datetime
) -> bool:
    """True when this call disabled it (not already disabled, still failing that long)."""
    return await conn.fetchval(DISABLE, endpoint_id, failing_before, reason, now) is not None


async def owners(conn: asyncpg.Connection, company_id: int) -> tuple[list[int], str]:
    """The company's owners' user ids, and its name."""
    rows = await conn.fetch(OWNERS, company_id)
    return [row["user_id"] for row in rows], (rows[0]["name"] if rows else "")


async def prune(conn: asyncpg.Connection, older_than: datetime, limit: int) -> int:
    result: str = await conn.execute(PRUNE, older_than, limit)
    return int(result.split()[-1])


async def oldest_due(conn: asyncpg.Connection, now: datetime) -> datetime | None:
    oldest: datetime | None = await conn.fetchval(OLDEST_DUE, now)
    return oldest
