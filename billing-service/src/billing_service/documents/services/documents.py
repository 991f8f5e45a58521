"""Invoice documents: the PDF's life. The current PDF follows the invoice's state (paid,
credited, due): every download renders the snapshot as it is now, which pdf-service stores by
content hash, so an unchanged invoice costs one lookup and a changed one one render. The PDF
as first issued is kept apart (`?version=issued`), for audit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from billing_service.documents import repositories as issued_repo
from billing_service.documents.pdf_client import PdfClient, SignedLink
from billing_service.documents.services.snapshot import LogoImage, snapshot
from billing_service.invoices.repositories import invoices as repo
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.services.queries import InvoiceQueries
from billing_service.parties import repositories as parties_repo
from billing_service.platform.permissions import document_resource
from billing_service.platform.scope import Scope
from shared.clock import Clock
from shared.errors import Conflict, ServiceUnavailable
from shared.logging import get_logger

log = get_logger("billing.documents")
# secrets.token_urlsafe's alphabet: anything else (a NUL, a lone surrogate) cannot be an id.
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
Version = Literal["current", "issued"]


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

    async def snapshot_of(self, detail: InvoiceDetail) -> dict[str, Any]:
        """The snapshot of the record as it is now: its status as of today in its company's
        timezone, its invoicer's logo."""
        invoice = detail.invoice
        today = await self.invoices.records.today(self.pool, invoice.company_id)
        logo = None
        if invoice.invoicer_id is not None:
            stored = await parties_repo.logo_of(self.pool, invoice.invoicer_id)
            logo = LogoImage(stored.media_type, stored.image) if stored else None
        return snapshot(detail, self.locale, today=today, logo=logo)

    async def render(self, invoice: Invoice) -> str:
        """The document of the invoice as it is now (pdf-service renders it only if that
        snapshot is new); a new one becomes the invoice's current document, announced."""
        detail = await self.invoices.detail_of(self.pool, invoice)
        document_id = await self.pdf.render(await self.snapshot_of(detail))
        if invoice.document_id is not None and str(invoice.document_id) == document_id:
            return document_id
        # Stored and announced together (the render itself is no part of any transaction);
        # the event carries the record as it is by then.
        async with self.pool.acquire() as conn, conn.transaction():
            await repo.set_document(conn, invoice.id, document_id)
            stored = await repo.by_id(conn, invoice.id)
            await self.invoices.records.announce(conn, stored, "pdf_ready")
        return document_id

    async def current(self, invoice: Invoice) -> str:
        """The invoice's document as it is now: never one that contradicts the API."""
        return await self.render(invoice)

    async def render_after_approval(self, invoice: Invoice) -> None:
        """The issued snapshot is kept first, then rendered: approval stands even when
        pdf-service is down (the issued PDF is then rendered from the kept snapshot on demand,
        the current one on first download)."""
        detail = await self.invoices.detail_of(self.pool, invoice)
        issued = await self.snapshot_of(detail)
        await issued_repo.keep_issued(self.pool, invoice.id, issued)
        try:
            document_id = await self.pdf.render(issued)
            await issued_repo.set_issued_document(self.pool, invoice.id, document_id)
            await self.render(invoice)
        except ServiceUnavailable:
            log.warning("pdf_render_deferred", invoice_id=invoice.id)

    async def issued(self, invoice: Invoice) -> str:
        """The document as first issued: 409 for a record never issued. One issued before
        issued PDFs were kept, and never rendered, gets its current one (the best record)."""
        kept = await issued_repo.issued(self.pool, invoice.id)
        if kept is not None and kept.document_id is not None:
            return kept.document_id
        if kept is not None and kept.snapshot is not None:
            document_id = await self.pdf.render(kept.snapshot)
            await issued_repo.set_issued_document(self.pool, invoice.id, document_id)
            return document_id
        if invoice.approved_at is None:
            raise Conflict(f"This {invoice.type.replace('_', ' ')} has not been issued yet.")
        document_id = await self.render(invoice)
        await issued_repo.add_issued_document(self.pool, invoice.id, document_id)
        return document_id

    async def download_link(
        self, scope: Scope, invoice_id: int, version: Version = "current"
    ) -> SignedLink:
        invoice = await self.invoices.find(self.pool, scope, invoice_id, "download")
        if version == "issued":
            return await self.pdf.link(await self.issued(invoice))
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
        return PublicPage(await self.snapshot_of(detail), pdf_path, lang, detail)
