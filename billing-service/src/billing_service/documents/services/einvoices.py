"""E-invoices: an invoice as Factur-X (the PDF with the CII XML embedded), CII, Peppol BIS UBL
or XRechnung, built from its records (einvoice_mapping) whenever asked, never stored by
billing. Factur-X PDFs and, for signed links, the XMLs are stored by pdf-service like the PDFs
(once per content), so a link works without a token exactly as /download's does.

Only invoices have e-invoices (EN 16931 knows no quote or template). A draft has its number
already, so its e-invoice is a preview of what it will be once issued.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from billing_service.documents.pdf_client import SignedLink
from billing_service.documents.services.documents import DocumentService
from billing_service.einvoice import model
from billing_service.einvoice.cii import build_cii
from billing_service.einvoice.requirements import Format, problems
from billing_service.einvoice.ubl import build_ubl, build_xrechnung
from billing_service.invoices.einvoice_mapping import available_formats, einvoice_of
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.platform.scope import Scope
from shared.errors import ServiceUnavailable, ValidationFailed

PDF, XML = "application/pdf", "application/xml"
BUILDERS: dict[Format, Callable[[model.Invoice], bytes]] = {
    "facturx": build_cii,
    "cii": build_cii,
    "ubl": build_ubl,
    "xrechnung": build_xrechnung,
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class EinvoiceFile:
    filename: str
    media_type: str
    body: bytes


def filename(label: str, fmt: str) -> str:
    """`INV-0001-facturx.pdf`, `INV-0001-ubl.xml`: safe in a header and on any disk."""
    stem = _UNSAFE.sub("-", label).strip("-.") or "invoice"
    return f"{stem[:100]}-{fmt}.{'pdf' if fmt == 'facturx' else 'xml'}"


def einvoice_for(detail: InvoiceDetail, fmt: Format) -> model.Invoice:
    """The invoice as EN 16931 sees it, when it has all the format needs; else a 422 naming
    each field it lacks (by the API's names: `invoicer.vat_id`, `items.2.tax_percentage`)."""
    invoice = detail.invoice
    if invoice.type != "invoice":
        raise ValidationFailed.field(
            "format", f"Only invoices have e-invoices (this is a {invoice.type})."
        )
    try:
        einvoice = einvoice_of(detail)
    except model.TaxRoundingConflict as conflict:
        raise ValidationFailed.field("items", str(conflict)) from None
    errors: dict[str, list[str]] = {}
    for problem in problems(einvoice, fmt):
        errors.setdefault(problem.field, []).append(problem.message)
    if errors:
        raise ValidationFailed(errors, f"The invoice lacks what the {fmt} format needs.")
    return einvoice


class EinvoiceService:
    def __init__(self, documents: DocumentService) -> None:
        self.documents = documents
        self.pool = documents.pool
        self.invoices = documents.invoices
        self.pdf = documents.pdf

    async def find(self, scope: Scope, invoice_id: int) -> InvoiceDetail:
        """The invoice the caller may download (404 for another tenant's), as its recipient
        sees it."""
        invoice = await self.invoices.find(self.pool, scope, invoice_id, "download")
        return await self.detail(invoice)

    async def detail(self, invoice: Invoice) -> InvoiceDetail:
        return await self.invoices.detail_of(self.pool, invoice, internal=False)

    async def file(self, detail: InvoiceDetail, fmt: Format) -> EinvoiceFile:
        """The e-invoice file itself; 422 when the invoice lacks what the format needs."""
        xml = BUILDERS[fmt](einvoice_for(detail, fmt))
        name = filename(detail.invoice.label, fmt)
        if fmt != "facturx":
            return EinvoiceFile(name, XML, xml)
        return EinvoiceFile(name, PDF, await self.pdf.pdf(await self._facturx(detail, xml)))

    async def link(self, detail: InvoiceDetail, fmt: Format) -> SignedLink:
        """A signed, expiring link to the file (stored by pdf-service once per content)."""
        xml = BUILDERS[fmt](einvoice_for(detail, fmt))
        if fmt == "facturx":
            document_id = await self._facturx(detail, xml)
        else:
            document_id = await self.pdf.store(filename(detail.invoice.label, fmt), XML, xml)
        return await self.pdf.link(document_id)

    async def public_link(self, detail: InvoiceDetail) -> SignedLink | None:
        """The public page's link to the Factur-X PDF: None when the invoice cannot be one
        (the page then offers the plain PDF only) or while pdf-service is down."""
        if "facturx" not in available_formats(detail):
            return None
        try:
            return await self.link(detail, "facturx")
        except ServiceUnavailable:
            return None

    async def _facturx(self, detail: InvoiceDetail, xml: bytes) -> str:
        """The invoice's PDF as it is now (the snapshot the XML was built from, rendered once
        per content by pdf-service) with the CII embedded."""
        rendered = await self.pdf.render(await self.documents.snapshot_of(detail))
        return await self.pdf.facturx(rendered, xml, filename(detail.invoice.label, "facturx"))
