"""Documents: render once per snapshot (by content hash), serve through signed links."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncpg

from pdf_service.render import render_invoice
from pdf_service.repositories import documents as repo
from pdf_service.repositories.documents import Document
from shared.errors import ApiError, Forbidden, NotFound

# Part of every content hash: a new layout renders documents anew instead of serving old ones.
RENDERER_VERSION = "3"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_hash(snapshot: dict[str, Any]) -> str:
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{RENDERER_VERSION}\n{canonical}".encode()).hexdigest()


def filename_for(snapshot: dict[str, Any]) -> str:
    stem = _UNSAFE.sub("-", str(snapshot.get("label") or "document")).strip("-.") or "document"
    return f"{stem[:100]}.pdf"


@dataclass(frozen=True)
class Link:
    path: str
    expires_at: int


class Documents:
    def __init__(
        self, pool: asyncpg.Pool, renderer: ProcessPoolExecutor, signing_key: bytes, link_ttl: int
    ) -> None:
        self._pool = pool
        self._renderer = renderer
        self._key = signing_key
        self._ttl = link_ttl

    async def render(self, snapshot: dict[str, Any]) -> tuple[Document, bool]:
        """The document of this snapshot, rendered only if no identical one is stored."""
        digest = content_hash(snapshot)
        stored = await repo.by_hash(self._pool, digest)
        if stored is not None:
            return stored, False
        loop = asyncio.get_running_loop()
        try:
            body = await loop.run_in_executor(self._renderer, render_invoice, snapshot)
        except Exception as exc:  # a snapshot the layout cannot draw is a bad request
            raise ApiError(f"The document could not be rendered: {type(exc).__name__}.") from exc
        return await repo.insert(self._pool, digest, filename_for(snapshot), body), True

    async def get(self, document_id: uuid.UUID) -> Document:
        document = await repo.by_id(self._pool, document_id)
        if document is None:
            raise NotFound("Document not found.")
        return document

    async def pdf(self, document_id: uuid.UUID) -> tuple[str, bytes]:
        found = await repo.pdf(self._pool, document_id)
        if found is None:
            raise NotFound("Document not found.")
        return found

    def link(self, document_id: uuid.UUID, ttl: int | None = None) -> Link:
        expires = int(time.time()) + (ttl or self._ttl)
        signature = self._sign(document_id, expires)
        return Link(f"/files/{document_id}?expires={expires}&signature={signature}", expires)

    def verify(self, document_id: uuid.UUID, expires: str, signature: str) -> None:
        """403 unless the signature is ours and the link has not expired."""
        if not expires.isdigit() or int(expires) < time.time():
            raise Forbidden("This link has expired.")
        expected = self._sign(document_id, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise Forbidden("This link is not valid.")

    def _sign(self, document_id: uuid.UUID, expires: int) -> str:
        return hmac.new(self._key, f"{document_id}.{expires}".encode(), hashlib.sha256).hexdigest()
