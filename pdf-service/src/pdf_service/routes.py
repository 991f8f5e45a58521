"""The operation table of pdf-service: each route's contract, checked and documented from
here (shared.contract)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from pdf_service.handlers import documents
from pdf_service.keys import DOCUMENTS, SETTINGS
from pdf_service.schemas import FacturxRequest, FileRequest, LinkRequest, RenderRequest, SignedLink
from pdf_service.views import DocumentView, LinkView
from shared.contract import Content, Data, Operation, add_operations
from shared.service_access import INTERNAL_SECRET, InternalSecret, no_identity_needed

DOCUMENT_ID = {"document_id": {"type": "string", "format": "uuid"}}
FILES, INTERNAL = "Files", "Internal"
PDF, XML = "application/pdf", "application/xml"


@dataclass(frozen=True)
class SignedLinkHolder:
    """Whoever holds a valid, unexpired signed link (made by the links route): the link is
    the permission, no token is needed."""

    public: bool = True

    def abilities(self) -> tuple[str, ...]:
        return ()

    def describe(self) -> str:
        return "Public: the signed link (`expires` and `signature`) is the permission."

    def check(self, request: web.Request) -> None:
        request.app[DOCUMENTS].verify(
            documents.document_id(request),
            request.query.get("expires", ""),
            request.query.get("signature", ""),
        )


SERVICE = InternalSecret(SETTINGS)

OPERATIONS = [
    Operation(
        "POST",
        "/internal/documents",
        documents.render,
        SERVICE,
        "Render a document snapshot",
        INTERNAL,
        "render_document",
        Data(DocumentView),
        status=201,
        also_status=(200,),
        body=RenderRequest,
        errors=(401,),
        headers=(INTERNAL_SECRET,),
        description="Rendered once per snapshot: an identical one answers 200 with the "
        "stored document.",
    ),
    Operation(
        "POST",
        "/internal/documents/{document_id}/facturx",
        documents.facturx,
        SERVICE,
        "Make a stored PDF a Factur-X PDF",
        INTERNAL,
        "embed_facturx",
        Data(DocumentView),
        status=201,
        also_status=(200,),
        body=FacturxRequest,
        errors=(401,),
        headers=(INTERNAL_SECRET,),
        path_types=DOCUMENT_ID,
        description="A new document: the PDF as PDF/A-3 with the CII XML embedded as "
        "`factur-x.xml`. Made once per PDF and XML: the same again answers 200.",
    ),
    Operation(
        "POST",
        "/internal/files",
        documents.store,
        SERVICE,
        "Store an e-invoice XML",
        INTERNAL,
        "store_file",
        Data(DocumentView),
        status=201,
        also_status=(200,),
        body=FileRequest,
        errors=(401,),
        headers=(INTERNAL_SECRET,),
        description="Served through signed links like the PDFs; the same file again "
        "answers 200 with the stored document.",
    ),
    Operation(
        "POST",
        "/internal/documents/{document_id}/links",
        documents.link,
        SERVICE,
        "Sign a link to a document",
        INTERNAL,
        "link_document",
        Data(LinkView),
        body=LinkRequest,
        body_required=False,
        errors=(401,),
        headers=(INTERNAL_SECRET,),
        path_types=DOCUMENT_ID,
    ),
    Operation(
        "GET",
        "/internal/documents/{document_id}",
        documents.raw,
        SERVICE,
        "Download a document",
        INTERNAL,
        "download_document",
        Content(PDF, "The PDF (or the stored e-invoice XML)", also=(XML,)),
        errors=(401,),
        headers=(INTERNAL_SECRET,),
        path_types=DOCUMENT_ID,
    ),
    *(
        Operation(
            method,
            "/files/{document_id}",
            documents.public_file,
            SignedLinkHolder(),
            summary,
            FILES,
            operation_id,
            Content(PDF, answer, also=(XML,)),
            query=SignedLink,
            errors=(403,),
            response_headers=("Content-Disposition", "Cache-Control"),
            path_types=DOCUMENT_ID,
            description="A link is valid until its `expires` time (15 minutes by default).",
        )
        for method, operation_id, summary, answer in (
            (
                "GET",
                "download_file",
                "Download a file through its signed link",
                "The PDF, or an e-invoice XML",
            ),
            # Download managers and link checkers ask first; the gateway passes HEAD on.
            ("HEAD", "check_file", "Check a file's signed link", "The file's headers, no body"),
        )
    ),
]

# Every operation of pdf-service needs no identity JWT (public or internal); a path it does
# not have still does (a 401 before a 404 tells a stranger nothing).
is_public = no_identity_needed(OPERATIONS)


def add_routes(app: web.Application) -> None:
    add_operations(app, OPERATIONS)
