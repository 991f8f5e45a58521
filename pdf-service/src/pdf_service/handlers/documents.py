"""pdf-service's routes: internal ones for billing, public signed files. Who may call each is
checked before these run (routes.py)."""

from __future__ import annotations

import uuid

from aiohttp import web

from pdf_service.keys import DOCUMENTS
from pdf_service.repositories.documents import Document
from pdf_service.schemas import FacturxRequest, FileRequest, LinkRequest, RenderRequest
from pdf_service.views import DocumentView, LinkView
from shared.contract import body_of
from shared.errors import NotFound
from shared.web import json_response


def document_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["document_id"])
    except ValueError:
        raise NotFound() from None


def _stored(document: Document, created: bool) -> web.Response:
    view = DocumentView(id=document.id, filename=document.filename, rendered=created)
    return json_response({"data": view}, status=201 if created else 200)


async def render(request: web.Request) -> web.Response:
    body = await body_of(request, RenderRequest)
    return _stored(*await request.app[DOCUMENTS].render_snapshot(body.snapshot))


async def facturx(request: web.Request) -> web.Response:
    source = document_id(request)
    body = await body_of(request, FacturxRequest)
    return _stored(*await request.app[DOCUMENTS].facturx(source, body.xml, body.filename))


async def store(request: web.Request) -> web.Response:
    body = await body_of(request, FileRequest)
    return _stored(*await request.app[DOCUMENTS].store(body.filename, body.media_type, body.text))


async def link(request: web.Request) -> web.Response:
    linked = document_id(request)
    body = await body_of(request, LinkRequest)
    signed = await request.app[DOCUMENTS].link_to(linked, body.ttl_seconds)
    return json_response({"data": LinkView(path=signed.path, expires_at=signed.expires_at)})


async def raw(request: web.Request) -> web.Response:
    stored = await request.app[DOCUMENTS].content(document_id(request))
    return web.Response(body=stored.body, content_type=stored.media_type)


async def public_file(request: web.Request) -> web.Response:
    """GET /files/{id}?expires=&signature=: the file as an attachment, for whoever holds a
    valid, unexpired link (checked before this runs: the link is the permission)."""
    stored = await request.app[DOCUMENTS].content(document_id(request))
    return web.Response(
        body=stored.body,
        content_type=stored.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{stored.filename}"',
            "Cache-Control": "private, max-age=300",
        },
    )
