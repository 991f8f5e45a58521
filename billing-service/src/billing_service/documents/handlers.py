"""PDF downloads and regeneration, and the public invoice page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from billing_service.documents.keys import DOCUMENTS, EINVOICES
from billing_service.documents.pdf_client import SignedLink
from billing_service.documents.schemas import DownloadQuery
from billing_service.documents.views import DownloadAnswer, DownloadLink, RegeneratedPdf
from billing_service.einvoice.fields import EinvoiceQuery
from billing_service.platform.handlers import data, document_scope
from billing_service.platform.idempotency import replay_without_secret
from shared.contract import query_of
from shared.pagination import public_base_url
from shared.validation import path_id
from shared.web import html_security_headers, json_response, new_nonce


def _expiry(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _download_answer(request: web.Request, invoice_id: int, link: SignedLink) -> web.Response:
    url, expires_at = public_base_url(request) + link.path, _expiry(link.expires_at)
    answer = DownloadAnswer(
        data=DownloadLink(invoice_id=invoice_id, download_url=url, expires_at=expires_at),
        download_url=url,
        expires_at=expires_at,
    )
    return json_response(answer.model_dump())


async def download(request: web.Request) -> web.Response:
    """A signed, expiring URL of the invoice's PDF as it is now, or as first issued."""
    scope = await document_scope(request, "download", members_only=False)
    invoice_id = path_id(request)
    version = query_of(request, DownloadQuery).version
    link = await request.app[DOCUMENTS].download_link(scope, invoice_id, version)
    return _download_answer(request, invoice_id, link)


async def einvoice(request: web.Request) -> web.Response:
    """GET /invoices/{id}/einvoice?format=: the e-invoice file, or with `Accept:
    application/json` a signed, expiring link to it."""
    scope = await document_scope(request, "download", members_only=False)
    invoice_id = path_id(request)
    einvoices = request.app[EINVOICES]
    detail = await einvoices.find(scope, invoice_id)
    fmt = query_of(request, EinvoiceQuery).format
    if "application/json" in request.headers.get("Accept", ""):
        return _download_answer(request, invoice_id, await einvoices.link(detail, fmt))
    file = await einvoices.file(detail, fmt)
    return web.Response(
        body=file.body,
        content_type=file.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


async def regenerate(request: web.Request) -> web.Response:
    scope = await document_scope(request, "update")
    invoice_id = path_id(request)
    _, link = await request.app[DOCUMENTS].regenerate(scope, invoice_id)
    without_link = RegeneratedPdf(id=invoice_id, pdf_url=None, expires_at=None)
    if link is None:  # rendered, but this token may not download it
        return data(without_link)
    url = public_base_url(request) + link.path
    response = data(RegeneratedPdf(id=invoice_id, pdf_url=url, expires_at=_expiry(link.expires_at)))
    # The signed link opens the PDF without a token: an idempotent replay gets none (the
    # client asks /download for a fresh one).
    return replay_without_secret(response, {"data": without_link})


async def public_page(request: web.Request) -> web.Response:
    """GET /i/{public_id}: the issued invoice as a page, for whoever has the unguessable link."""
    page = await request.app[DOCUMENTS].public_page(request.match_info["public_id"])
    if page is None:
        return _page(request, "not_found.html", {}, status=404)
    base_url = public_base_url(request)
    download_url = base_url + page.pdf_path if page.pdf_path else None
    facturx = await request.app[EINVOICES].public_link(page.detail)
    context = {
        "doc": page.document,
        "download_url": download_url,
        "facturx_url": base_url + facturx.path if facturx else None,
        "lang": page.lang,
    }
    return _page(request, "invoice.html", context)


def _page(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """A public HTML page: its own styles only (by nonce), never cached, framed or indexed."""
    nonce = new_nonce()
    response = aiohttp_jinja2.render_template(
        template, request, context | {"csp_nonce": nonce}, status=status
    )
    response.headers.update(html_security_headers(style_nonce=nonce))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
