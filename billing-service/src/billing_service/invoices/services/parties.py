"""Who a new invoice is from and to, when the request leaves it out. InvoiceFlow's clients
send neither an invoicer nor a currency: the invoicer is the company's default one (made
from the company when it has none), the currency the recipient's, else the invoicer's, else
the company's. A new invoice that names no payment detail carries its invoicer's default one
(`is_default`), so it always says how to pay when the invoicer has said it once."""

from __future__ import annotations

from typing import Any

import asyncpg

from billing_service.invoices.repositories import invoices as invoice_repo
from billing_service.parties import repositories as repo
from billing_service.platform.references import invalid_reference
from billing_service.platform.repositories import crud
from billing_service.platform.repositories.crud import Row
from shared.errors import Conflict, ValidationFailed


async def with_defaults(
    conn: asyncpg.Connection, company_id: int, fields: dict[str, Any], refs: dict[str, Row | None]
) -> dict[str, Any]:
    """`fields` with `invoicer_id`, `invoicer_payment_detail_id` and `currency` filled in;
    `refs` gets the invoicer and the payment detail."""
    values = dict(fields)
    invoicer = refs["invoicer_id"]
    if invoicer is None:
        invoicer = await _default_invoicer(conn, company_id, refs["invoicer_payment_detail_id"])
        refs["invoicer_id"] = invoicer
        values["invoicer_id"] = invoicer["id"]
    if refs["invoicer_payment_detail_id"] is None:
        detail = await repo.default_payment_detail(conn, invoicer["id"])
        refs["invoicer_payment_detail_id"] = detail
        values["invoicer_payment_detail_id"] = detail["id"] if detail else None
    if not values.get("currency"):
        values["currency"] = await _default_currency(conn, company_id, refs)
    return values


async def require_live_recipient(
    conn: asyncpg.Connection, fields: dict[str, Any], refs: dict[str, Row | None]
) -> None:
    """A recipient named by the request must not be archived (a deleted customer): 422.
    Locked key-share until commit, so a concurrent archive counts this invoice or is seen."""
    recipient = refs["invoice_recipient_id"]
    if "invoice_recipient_id" not in fields or recipient is None:
        return
    if await repo.is_archived(conn, recipient["id"]):
        raise ValidationFailed.field(
            "invoice_recipient_id", "The selected customer has been deleted."
        )


async def require_live_source(conn: asyncpg.Connection, recipient_id: int | None) -> None:
    """A conversion copies the source's recipient onto a new record: not a deleted one."""
    if recipient_id is not None and await repo.is_archived(conn, recipient_id):
        raise Conflict("The customer of this record has been deleted: it gets no new documents.")


async def _default_invoicer(
    conn: asyncpg.Connection, company_id: int, payment_detail: Row | None
) -> Row:
    """The payment detail's invoicer if one was named; else the company's default invoicer
    (or its only one); else one made from the company.

    The role matrix lets members create invoices but not invoicers: this one is made by the
    system for the company, from the company's own name and currency (nothing a member
    chose), and only while the company has none; so a member's first invoice succeeds."""
    if payment_detail is not None:
        invoicer = await invoice_repo.owned_by_company(
            conn, "invoicers", payment_detail["invoicer_id"], company_id
        )
        assert invoicer is not None  # a payment detail belongs to an invoicer of its company
        return invoicer
    found = await _chosen_invoicer(conn, company_id)
    if found is not None:
        return found
    await repo.lock_default_invoicer(conn, company_id)
    found = await _chosen_invoicer(conn, company_id)  # made while this request waited?
    if found is not None:
        return found
    company = await _company(conn, company_id)
    return await crud.insert(
        conn,
        repo.INVOICERS,
        company_id,
        {"company_entity": company["name"], "currency": company["currency"], "is_default": True},
    )


async def _chosen_invoicer(conn: asyncpg.Connection, company_id: int) -> Row | None:
    """The default invoicer, or the only one; None when there is none. Several and none the
    default: which one issues the invoice is the client's choice (422)."""
    candidates = await repo.invoicer_candidates(conn, company_id)
    if not candidates:
        return None
    if candidates[0]["is_default"] or len(candidates) == 1:
        return candidates[0]
    raise ValidationFailed.field(
        "invoicer_id",
        "The invoicer id field is required: the company has several invoicers and no default.",
    )


async def _default_currency(
    conn: asyncpg.Connection, company_id: int, refs: dict[str, Row | None]
) -> str:
    for ref in (refs["invoice_recipient_id"], refs["invoicer_id"]):
        if ref is not None and (ref.get("currency") or "").strip():
            return str(ref["currency"]).strip()
    currency = (await _company(conn, company_id))["currency"]
    if not currency:
        raise ValidationFailed.field("currency", "The currency field is required.")
    return str(currency)


async def _company(conn: asyncpg.Connection, company_id: int) -> Row:
    company = await repo.company_identity(conn, company_id)
    if company is None:  # deleted by a concurrent request
        raise invalid_reference("company_id")
    return company
