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

from billing_service.invoice_views import invoice_view
from billing_service.repositories import events as repo
from billing_service.repositories.invoices import Invoice
from billing_service.services.invoice_detail import load_detail
from shared.clock import Clock
from shared.web import dumps

# What happens to a record of the invoices table, per type: its events are `<type>.<verb>`.
# Only what lifecycle.py lets happen to the type: only quotes are declined or become
# converted (a quote's invoice), only invoices are paid or overdue; every type may be
# cancelled and have its PDF rendered (regenerate). A template's generated invoice is
# `recurring.invoice_generated`, carrying (and ordered by) the generated invoice.
DOCUMENT_VERBS: dict[str, tuple[str, ...]] = {
    "invoice": (
        "created",
        "updated",
        "approved",
        "sent",
        "payment_recorded",
        "paid",
        "cancelled",
        "overdue",
        "deleted",
        "pdf_ready",
    ),
    "quote": (
        "created",
        "updated",
        "approved",
        "sent",
        "cancelled",
        "declined",
        "converted",
        "deleted",
        "pdf_ready",
    ),
    "recurring": ("created", "updated", "cancelled", "deleted", "pdf_ready", "invoice_generated"),
    "template": ("created", "updated", "cancelled", "deleted", "pdf_ready"),
}
OTHER_EVENTS = (
    "recipient.created",
    "recipient.updated",
    "recipient.deleted",
    "email.delivered",
    "email.failed",
    "webhook.test",
)
# Every event type, in the order the documentation lists them.
EVENT_TYPES: tuple[str, ...] = (
    tuple(f"{kind}.{verb}" for kind, verbs in DOCUMENT_VERBS.items() for verb in verbs)
    + OTHER_EVENTS
)
# What an endpoint may subscribe to: a type, a family (`invoice.*`), or everything (`*`).
SUBSCRIBABLE: frozenset[str] = frozenset(
    {"*", *EVENT_TYPES, *{f"{kind.split('.')[0]}.*" for kind in EVENT_TYPES}}
)


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

    async def document(self, conn: asyncpg.Connection, invoice: Invoice, verb: str) -> str:
        """`<type>.<verb>` of a record of the invoices table, carrying its member view as it
        now is in this transaction (pass the record as the change left it)."""
        [event_id] = await self.documents(conn, invoice, [f"{invoice.type}.{verb}"])
        return event_id

    async def documents(
        self, conn: asyncpg.Connection, invoice: Invoice, event_types: Sequence[str]
    ) -> list[str]:
        """Several events of one change of a record (a payment that settles it: payment
        recorded, then paid), in this order, all carrying its view, loaded once."""
        detail = await load_detail(conn, invoice)
        view = invoice_view(detail.invoice, self.public_base_url, detail=detail)
        subject = document_subject(invoice.id)
        return [
            await self.record(conn, invoice.company_id, event_type, view, subject=subject)
            for event_type in event_types
        ]
