"""SQL of the event log: an event and its deliveries, written in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

# The channel a commit that queued deliveries notifies: the delivery loops listen on it.
WAKE_DELIVERIES = "webhook_deliveries"

# The event, and one pending delivery per enabled endpoint of its company subscribed to its
# type (`*`, the type itself, or its family `invoice.*`); or, for a test event, to the one
# endpoint named ($7), whatever it subscribes to. When any delivery was queued, the delivery
# loops are notified (PostgreSQL delivers it at commit, and never for a rolled-back change).
# One round trip in the change's transaction.
RECORD = f"""
WITH event AS (
    INSERT INTO events (id, company_id, type, subject, data, created_at)
    VALUES ($1, $2, $3, $4, $5::jsonb, $6)
    RETURNING seq
), queued AS (
    INSERT INTO webhook_deliveries
        (endpoint_id, event_seq, company_id, subject, next_attempt_at, created_at)
    SELECT w.id, event.seq, $2, $4, $6, $6
    FROM webhook_endpoints w CROSS JOIN event
    WHERE w.company_id = $2
      AND CASE WHEN $7::bigint IS NULL
               THEN w.enabled AND w.events && ARRAY['*', $3, split_part($3, '.', 1) || '.*']
               ELSE w.id = $7 END
    RETURNING 1
)
SELECT pg_notify('{WAKE_DELIVERIES}', '') FROM (SELECT 1 FROM queued LIMIT 1) AS any_queued
"""


async def record(
    conn: asyncpg.Connection,
    event_id: str,
    company_id: int,
    event_type: str,
    subject: str | None,
    data_json: str,
    at: datetime,
    only_endpoint: int | None,
) -> None:
    await conn.execute(
        RECORD, event_id, company_id, event_type, subject, data_json, at, only_endpoint
    )


async def record_many(
    conn: asyncpg.Connection,
    company_id: int,
    event_type: str,
    events: Sequence[tuple[str, str | None, str]],
    at: datetime,
) -> None:
    """Events of one type (id, subject, data as JSON each), pipelined in one round trip."""
    await conn.executemany(
        RECORD,
        [
            (event_id, company_id, event_type, subject, data, at, None)
            for event_id, subject, data in events
        ],
    )
