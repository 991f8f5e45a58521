"""pdf-service's routes: internal ones for billing (service secret), public signed files."""

from __future__ import annotations

import hmac
import uuid

from aiohttp import web
from pydantic import BaseModel, Field

from pdf_service.keys import DOCUMENTS, SETTINGS
from pdf_service.snapshot import Snapshot
from shared.errors import NotFound, Unauthorized
from shared.validation import parse_body
from shared.web import json_response


class RenderRequest(BaseModel):
    snapshot: Snapshot


class LinkRequest(BaseModel):
    ttl_seconds: int | None = Field(default=None, ge=10, le=7 * 24 * 3600)


def _require_service(request: web.Request) -> None:
    expected = request.app[SETTINGS].internal_secret.get_secret_value()
    given = request.headers.get("X-Internal-Secret", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized()


def _document_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["document_id"])
    except ValueError:
        raise NotFound() from None


async def render(request: web.Request) -> web.Response:
    _require_service(request)
    body = await parse_body(request, RenderRequest)
    # What the layout reads (unknown keys left out), as billing sent it: the content hash.
    snapshot = body.snapshot.model_dump(exclude_unset=True)
    document, created = await request.app[DOCUMENTS].render(snapshot)
    payload = {"id": str(document.id), "filename": document.filename, "rendered": created}
    return json_response({"data": payload}, status=201 if created else 200)


async def link(request: web.Request) -> web.Response:
    _require_service(request)
    document_id = _document_id(request)
    body = await parse_body(request, LinkRequest)
    documents = request.app[DOCUMENTS]
    await documents.get(document_id)
    signed = documents.link(document_id, body.ttl_seconds)
    return json_response({"data": {"path": signed.path, "expires_at": signed.expires_at}})


async def raw(request: web.Request) -> web.Response:
    _require_service(request)
    _, pdf = await request.app[DOCUMENTS].pdf(_document_id(request))
    return web.Response(body=pdf, content_type="application/pdf")


async def public_file(request: web.Request) -> web.Response:
    """GET /files/{id}?expires=&signature=: the PDF as an attachment, for whoever holds a
    valid, unexpired link (no token: the link is the permission)."""
    document_id = _document_id(request)
    documents = request.app[DOCUMENTS]
    documents.verify(
        document_id, request.query.get("expires", ""), request.query.get("signature", "")
    )
    filename, pdf = await documents.pdf(document_id)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, max-age=300",
        },
    )
