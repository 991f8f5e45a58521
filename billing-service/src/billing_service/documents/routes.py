"""Operations of invoices' PDFs and the public invoice page."""

from __future__ import annotations

from billing_service.documents import handlers as documents
from billing_service.documents.schemas import DownloadQuery
from billing_service.documents.views import DownloadAnswer, RegeneratedPdf
from billing_service.einvoice.fields import EinvoiceQuery
from billing_service.platform.permissions import DocumentAccess
from shared.contract import IDEMPOTENCY_KEY, Content, Data, Operation, Plain, Public

V1 = "/api/v1"


def operations() -> list[Operation]:
    return [
        Operation(
            "GET",
            f"{V1}/invoices/{{id}}/download",
            documents.download,
            DocumentAccess("download", members_only=False),
            "Get a signed link to an invoice's PDF",
            "Invoices",
            "download_invoice",
            Plain(DownloadAnswer),
            query=DownloadQuery,
            errors=(403, 409),
            description="The link opens the PDF without a token until `expires_at`. The PDF "
            "is the invoice as it is now: after a payment, credit or refund it shows what "
            "the API shows (a PDF is rendered once per content, so an unchanged invoice is "
            "not rendered again). `?version=issued` links the PDF as first issued, kept for "
            "audit (409 for a record never issued). Client-portal users download their "
            "recipient's documents.",
        ),
        Operation(
            "GET",
            f"{V1}/invoices/{{id}}/einvoice",
            documents.einvoice,
            DocumentAccess("download", members_only=False),
            "Download an invoice as an e-invoice",
            "Invoices",
            "download_einvoice",
            Content(
                "application/pdf",
                "The e-invoice: a Factur-X PDF (`facturx`) or the XML (`cii`, `ubl`, "
                "`xrechnung`); with `Accept: application/json`, a signed link to it",
                also=("application/xml",),
                json=Plain(DownloadAnswer),
            ),
            query=EinvoiceQuery,
            errors=(403,),
            response_headers=("Content-Disposition",),
            description="EN 16931 e-invoices, built from the invoice as it is now: "
            "`available_formats` on the invoice says which it can be produced in. A format "
            "it cannot be produced in is a 422 naming each field it lacks (`invoicer.vat_id`, "
            "`recipient.country_code`, `buyer_reference`, ...); a record other than an "
            "invoice is a 422 on `format`. The JSON answer is /download's: a link that works "
            "without a token until `expires_at`. Client-portal users download their "
            "recipient's invoices.",
        ),
        Operation(
            "POST",
            f"{V1}/invoices/{{id}}/regenerate-pdf",
            documents.regenerate,
            DocumentAccess("update"),
            "Render an invoice's PDF again",
            "Invoices",
            "regenerate_invoice_pdf",
            Data(RegeneratedPdf),
            errors=(403,),
            headers=(IDEMPOTENCY_KEY,),
            description="`pdf_url` is null for a token that may not download the PDF, and "
            "in an answer replayed for an Idempotency-Key (ask /download for a link).",
        ),
        Operation(
            "GET",
            "/i/{public_id}",
            documents.public_page,
            Public("Public: the unguessable id is the secret."),
            "Show an issued invoice's public page",
            "Public pages",
            "show_public_invoice",
            Content("text/html", "The invoice as an HTML page"),
            errors=(404,),
            path_types={"public_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"}},
            description="A 404 page for an id that names no issued invoice.",
        ),
    ]
