"""PDF downloads and regeneration, and the public invoice page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from billing_service.handlers.common import document_scope
from billing_service.idempotency import replay_without_secret
from billing_service.keys import CLOCK, DOCUMENTS, INVOICES, POOL, SETTINGS
from billing_service.repositories import invoices as repo
from billing_service.services.documents import snapshot
from shared.errors import ServiceUnavailable
from shared.pagination import public_base_url
from shared.validation import path_id
from shared.web import html_security_headers, json_response, new_nonce

# secrets.token_urlsafe's alphabet: anything else (a NUL, a lone surrogate) cannot be an id.
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _expiry(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


async def download(request: web.Request) -> web.Response:
    """A signed, expiring URL of the invoice's PDF (rendered now if it has none yet)."""
    scope = await document_scope(request, "download", members_only=False)
    invoice_id = path_id(request)
    link = await request.app[DOCUMENTS].download_link(scope, invoice_id)
    url = public_base_url(request) + link.path
    expires_at = _expiry(link.expires_at)
    return json_response(
        {
            "data": {"invoice_id": invoice_id, "download_url": url, "expires_at": expires_at},
            # InvoiceMee's clients read these at the top level.
            "download_url": url,
            "expires_at": expires_at,
        }
    )


async def regenerate(request: web.Request) -> web.Response:
    scope = await document_scope(request, "update")
    invoice_id = path_id(request)
    _, link = await request.app[DOCUMENTS].regenerate(scope, invoice_id)
    if link is None:  # rendered, but this token may not download it
        return json_response({"data": {"id": invoice_id, "pdf_url": None, "expires_at": None}})
    url = public_base_url(request) + link.path
    response = json_response(
        {"data": {"id": invoice_id, "pdf_url": url, "expires_at": _expiry(link.expires_at)}}
    )
    # The signed link opens the PDF without a token: an idempotent replay gets none (the
    # client asks /download for a fresh one).
    return replay_without_secret(
        response, {"data": {"id": invoice_id, "pdf_url": None, "expires_at": None}}
    )


async def public_page(request: web.Request) -> web.Response:
    """GET /i/{public_id}: the issued invoice as a page, for whoever has the unguessable link."""
    public_id = request.match_info["public_id"]
    invoice = None
    if _PUBLIC_ID.fullmatch(public_id):
        invoice = await repo.by_public_id(request.app[POOL], public_id, request.app[CLOCK]())
    if invoice is None:
        return _page(request, "not_found.html", {}, status=404)
    documents = request.app[DOCUMENTS]
    detail = await request.app[INVOICES].detail_of(request.app[POOL], invoice, internal=False)
    locale = request.app[SETTINGS].document_locale
    download_url = None
    try:
        link = await documents.pdf.link(await documents.current(invoice))
        download_url = public_base_url(request) + link.path
    except ServiceUnavailable:
        pass  # the page still shows the invoice; the PDF link comes back with pdf-service
    context = {
        "doc": snapshot(detail, locale),
        "download_url": download_url,
        "lang": locale.split("_")[0],
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
