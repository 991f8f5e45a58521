"""A record of another type made from one (a quote's invoice, an invoice's recurring
template): its items copied; a quote turned into an invoice is `converted`.

The new record keeps the source's label where no record of its type has it (InvoiceMee's
`INV-2025-001` template), else takes its type's next number; an invoice always takes the
next invoice number, so that invoices stay one series without gaps (a quote's QUO-0007 is
no invoice number)."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from billing_service.invoices import lifecycle
from billing_service.invoices.repositories import invoices as invoice_repo
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services import parties as invoice_parties
from billing_service.invoices.services.records import InvoiceRecords, check_dates, clone_invoice
from billing_service.platform.permissions import authorize_document
from billing_service.platform.scope import Scope
from shared.errors import ValidationFailed


class InvoiceConversion:
    def __init__(self, records: InvoiceRecords) -> None:
        self.records = records

    async def convert(
        self,
        scope: Scope,
        invoice_id: int,
        target: str,
        options: dict[str, Any],
        *,
        kind: str | None = None,
    ) -> Invoice:
        """A new draft of `target` from the record (of type `kind` when the route shows only
        one); `options` may set its dates, period and interval."""
        async with self.records.pool.acquire() as conn, conn.transaction():
            source = await self.records.find(conn, scope, invoice_id, "read", kind=kind, lock=True)
            turns_converted = source.type == "quote" and target == "invoice"
            authorize_document(scope, target, source.company_id, "create")
            if turns_converted:
                authorize_document(scope, source.type, source.company_id, "update")
            lifecycle.require("convert", source.type, source.status)
            await invoice_parties.require_live_source(conn, source.invoice_recipient_id)
            if target == "recurring" and not (options.get("recurring") or source.recurring):
                raise ValidationFailed.field(
                    "recurring", "The recurring field is required when converting to recurring."
                )
            scheduled = options.get("scheduled_date") or await self.records.today(
                conn, source.company_id
            )
            values = _converted_values(source, target, scheduled, options)
            check_dates(values)
            created = await clone_invoice(
                conn,
                source,
                target,
                values | {"created_by": scope.user_id},
                user_id=scope.user_id,
                event=f"converted_from:{source.id}",
                label=await _kept_label(conn, source, target),
            )
            await self.records.announce(conn, created, "created")
            if turns_converted:
                converted = await self.records.move(conn, scope.user_id, source, "converted", {})
                await self.records.announce(conn, converted, "converted")
            return created


async def _kept_label(conn: asyncpg.Connection, source: Invoice, target: str) -> str | None:
    """The source's label for the new record, when it may keep it (see above); else None."""
    if target == "invoice":
        return None
    free = await invoice_repo.label_free_for_type(conn, source.company_id, source.label, target)
    return source.label if free else None


def _converted_values(
    source: Invoice, target: str, scheduled: date, options: dict[str, Any]
) -> dict[str, Any]:
    """What the new record does not take from the source as it is."""
    due = options.get("due_date")
    if due is None and source.due_date is not None and source.due_date >= scheduled:
        due = source.due_date
    recurring = target == "recurring"
    return {
        "scheduled_date": scheduled,
        "due_date": due,
        "period": options.get("period", source.period),
        "recurring": options.get("recurring") or (source.recurring if recurring else None),
        "next_run_date": scheduled if recurring else None,
        "anchor_date": scheduled if recurring else None,
        "invoice_parent_id": None,
        # A quote's validity means nothing on an invoice, nor once it has passed.
        "valid_until": (
            source.valid_until
            if target == "quote" and source.valid_until and source.valid_until >= scheduled
            else None
        ),
    }
