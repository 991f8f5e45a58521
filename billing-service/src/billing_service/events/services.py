"""The event log: every change a receiver may care about, written in the change's own
transaction together with its deliveries to the subscribed webhook endpoints (a
transactional outbox: no change without its event, no event without its change).

An event's `data` is the record as the API shows it to a member at that moment, so a receiver
needs no second call to learn what changed. Services call `EventLog` with the connection of
their transaction; nothing here commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import asyncpg

from billing_service.events import repositories as repo
from billing_service.events.types import EVENT_TYPES
from shared.clock import Clock
from shared.web import dumps


def new_event_id() -> str:
    """Public and unguessable: receivers see it as `webhook-id` and deduplicate on it."""
    return f"evt_{secrets.token_hex(12)}"


def document_subject(invoice_id: int) -> str:
    """One record's events reach each endpoint in the order they happened."""
    return f"invoice:{invoice_id}"


class EventLog:
    def __init__(self, clock: Clock, public_base_url: str) -> None:
        self.clock = clock
        self.public_base_url = public_base_url  # the absolute URLs inside a record's view

    async def record(
        self,
        conn: asyncpg.Connection,
        company_id: int,
        event_type: str,
        data: Any,
        *,
        subject: str | None = None,
        only_endpoint: int | None = None,
    ) -> str:
        """The event, and its deliveries (to `only_endpoint` alone for a test event); its id."""
        if event_type not in EVENT_TYPES:  # a typo must not become a type nobody subscribes to
            raise ValueError(f"unknown event type {event_type!r}")
        event_id = new_event_id()
        await repo.record(
            conn,
            event_id,
            company_id,
            event_type,
            subject,
            # Characters as they are, not as \u escapes: jsonb takes an escape of a non-ASCII
            # character only in a UTF8 database, and a database created without a UTF-8
            # locale is SQL_ASCII (as the postgres image without LANG makes them).
            dumps(data),  # UTF-8: jsonb in an SQL_ASCII database refuses \u escapes of non-ASCII
            self.clock(),
            only_endpoint,
        )
        return event_id

    async def record_many(
        self,
        conn: asyncpg.Connection,
        company_id: int,
        event_type: str,
        subjects_and_data: Sequence[tuple[str, Any]],
    ) -> None:
        """One event of this type per (subject, data), as `record` writes each (an import)."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
        events = [(new_event_id(), subject, dumps(data)) for subject, data in subjects_and_data]
        await repo.record_many(conn, company_id, event_type, events, self.clock())

    async def documents(
        self,
        conn: asyncpg.Connection,
        company_id: int,
        invoice_id: int,
        event_types: Sequence[str],
        view: Any,
    ) -> list[str]:
        """Several events of one change of a record of the invoices table (a payment that
        settles it: payment recorded, then paid), in this order, all carrying `view`: the
        record as a member sees it, rendered by the invoices services from the snapshot of
        this transaction."""
        subject = document_subject(invoice_id)
        return [
            await self.record(conn, company_id, event_type, view, subject=subject)
            for event_type in event_types
        ]
