"""Invoice documents: the display-ready snapshot that both the PDF and the public page show,
and the PDF's life (rendered on approval, on regenerate, or on first download)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from billing_service.documents.pdf_client import PdfClient, SignedLink
from billing_service.invoices.repositories import invoices as repo
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services.queries import InvoiceQueries
from billing_service.platform.money import round_money
from billing_service.platform.permissions import document_resource
from billing_service.platform.scope import Scope
from shared.clock import Clock
from shared.errors import ServiceUnavailable
from shared.logging import get_logger

log = get_logger("billing.documents")
# secrets.token_urlsafe's alphabet: anything else (a NUL, a lone surrogate) cannot be an id.
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
TITLES = {
    "invoice": "Invoice",
    "quote": "Quote",
    "recurring": "Recurring invoice",
    "template": "Template",
}


class Formatter:
    """Money and dates as a reader of the given locale expects them."""

    def __init__(self, locale: str, currency: str) -> None:
        self.locale = locale
        self.currency = currency

    def money(self, amount: Decimal) -> str:
        return format_currency(
            round_money(amount, self.currency), self.currency, locale=self.locale
        )

    def date(self, value: date | None) -> str | None:
        return format_date(value, format="long", locale=self.locale) if value else None

    def number(self, value: Decimal) -> str:
        return format_decimal(value.normalize(), locale=self.locale)

    def percent(self, value: Decimal) -> str:
        return f"{self.number(value)}%"


def snapshot(detail: InvoiceDetail, locale: str, public_url: str | None = None) -> dict[str, Any]:
    invoice = detail.invoice
    fmt = Formatter(locale, invoice.currency.strip())
    invoicer, recipient = detail.invoicer or {}, detail.recipient or {}
    payment = detail.payment_detail or {}
    return {
        "label": invoice.label,
        "title": TITLES.get(invoice.type, "Invoice"),
        "type": invoice.type,
        "status": invoice.status.capitalize(),
        "currency": fmt.currency,
        "issue_date": fmt.date(invoice.scheduled_date),
        "due_date": fmt.date(invoice.due_date),
        "valid_until": fmt.date(invoice.valid_until),
        "period": invoice.period,
        "subject": invoice.subject,
        "invoicer": {
            "name": invoicer.get("company_entity"),
            "address": invoicer.get("company_address"),
            "tax_number": invoicer.get("company_tax_number"),
            "registration_number": invoicer.get("company_registration_number"),
        },
        "recipient": {
            "name": recipient.get("company_entity"),
            "contact": recipient.get("contact_name"),
            "address": recipient.get("company_address"),
            "email": recipient.get("email"),
            "tax_number": recipient.get("company_tax_number"),
            "registration_number": recipient.get("company_registration_number"),
        },
        "items": [_item(item, fmt) for item in detail.items if item["include"]],
        "totals": {
            "subtotal": fmt.money(invoice.subtotal),
            "tax": fmt.money(invoice.tax),
            "total": fmt.money(invoice.total),
            "amount_paid": fmt.money(invoice.amount_paid),
            "balance_due": fmt.money(invoice.balance_due),
        },
        "payment_details": {
            key: payment.get(key)
            for key in ("bank_name", "account_name", "account_number", "iban", "swift")
        }
        if payment
        else None,
        "notes": invoice.notes,
        "public_url": public_url,
    }


def _item(item: dict[str, Any], fmt: Formatter) -> dict[str, Any]:
    discount = item["discount"]
    if item["price_includes_discount"] or not discount:
        shown_discount = None
    elif item["discount_percentage"]:
        shown_discount = fmt.percent(discount)
    else:
        shown_discount = fmt.money(discount)
    return {
        "label": item["label"],
        "quantity": fmt.number(item["quantity"]),
        "unit": item["unit"],
        "price": fmt.money(item["price"]),
        "discount": shown_discount,
        "tax": fmt.percent(item["tax_percentage"]),
        "total": fmt.money(item["net"]),
    }


@dataclass(frozen=True)
class PublicPage:
    """What the public page of an issued invoice shows."""

    document: dict[str, Any]  # the snapshot the PDF shows too
    pdf_path: str | None  # a signed link to the PDF; None while pdf-service is down
    lang: str
    detail: InvoiceDetail  # what the snapshot was made from (its e-invoice is made from it too)


class DocumentService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        invoices: InvoiceQueries,
        pdf: PdfClient,
        locale: str,
        clock: Clock,
    ) -> None:
        self.pool = pool
        self.invoices = invoices
        self.pdf = pdf
        self.locale = locale
        self.clock = clock

    async def render(self, invoice: Invoice) -> str:
        """Render the invoice as it is now; it becomes the invoice's current document."""
        detail = await self.invoices.detail_of(self.pool, invoice)
        document_id = await self.pdf.render(snapshot(detail, self.locale))
        # Stored and announced together (the render itself is no part of any transaction);
        # the event carries the record as it is by then.
        async with self.pool.acquire() as conn, conn.transaction():
            await repo.set_document(conn, invoice.id, document_id)
            stored = await repo.by_id(conn, invoice.id)
            await self.invoices.records.announce(conn, stored, "pdf_ready")
        return document_id

    async def current(self, invoice: Invoice) -> str:
        """The invoice's current document, rendered now if it has none yet."""
        if invoice.document_id is not None:
            return str(invoice.document_id)
        return await self.render(invoice)

    async def render_after_approval(self, invoice: Invoice) -> None:
        """Approval stands even when pdf-service is down: the PDF then comes on first download."""
        try:
            await self.render(invoice)
        except ServiceUnavailable:
            log.warning("pdf_render_deferred", invoice_id=invoice.id)

    async def download_link(self, scope: Scope, invoice_id: int) -> SignedLink:
        invoice = await self.invoices.find(self.pool, scope, invoice_id, "download")
        return await self.pdf.link(await self.current(invoice))

    async def regenerate(self, scope: Scope, invoice_id: int) -> tuple[str, SignedLink | None]:
        """Render the current state; the download link only for a token that may download
        (updating a record is no right to its PDF)."""
        invoice = await self.invoices.find(self.pool, scope, invoice_id, "update")
        document_id = await self.render(invoice)
        if not scope.identity.can(f"{document_resource(invoice.type)}:download"):
            return document_id, None
        return document_id, await self.pdf.link(document_id)

    async def public_page(self, public_id: str) -> PublicPage | None:
        """The issued invoice behind an unguessable public id, for whoever has the link; None
        for an id that names none (or no longer does)."""
        if not _PUBLIC_ID.fullmatch(public_id):
            return None
        invoice = await repo.by_public_id(self.pool, public_id, self.clock())
        if invoice is None:
            return None
        detail = await self.invoices.detail_of(self.pool, invoice, internal=False)
        try:
            pdf_path: str | None = (await self.pdf.link(await self.current(invoice))).path
        except ServiceUnavailable:
            pdf_path = (
                None  # the page still shows the invoice; the link comes back with pdf-service
            )
        lang = self.locale.split("_")[0]
        return PublicPage(snapshot(detail, self.locale), pdf_path, lang, detail)
