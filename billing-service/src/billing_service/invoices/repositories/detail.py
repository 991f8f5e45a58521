"""One record of the invoices table in full: its lines, payments and parties, and for the
company's own people its history and members. Read by the answers, the documents and the
events (which carry the record as a member sees it at that moment)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing_service.invoices.repositories import invoices as repo
from billing_service.invoices.repositories import members as members_repo
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.platform.repositories.crud import Row


@dataclass(frozen=True)
class InvoiceDetail:
    invoice: Invoice
    items: list[Row]
    payments: list[Row]
    history: list[Row]
    members: list[Row]
    invoicer: Row | None
    recipient: Row | None
    payment_detail: Row | None


async def load_detail(db: Any, invoice: Invoice, *, internal: bool = True) -> InvoiceDetail:
    """The record with its lines, payments and parties; its history and members only for the
    company's own people (`internal`)."""

    async def related(table: str, row_id: int | None) -> Row | None:
        if row_id is None:
            return None
        return await repo.owned_by_company(db, table, row_id, invoice.company_id)

    return InvoiceDetail(
        invoice,
        await repo.items(db, invoice.id),
        await repo.payments(db, invoice.id),
        await repo.history(db, invoice.id) if internal else [],
        await members_repo.members(db, invoice.id) if internal else [],
        await related("invoicers", invoice.invoicer_id),
        await related("recipients", invoice.invoice_recipient_id),
        await related("payment_details", invoice.invoicer_payment_detail_id),
    )
