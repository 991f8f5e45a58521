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
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import asyncpg

from pdf_service.facturx import make_facturx
from pdf_service.render import render_invoice
from pdf_service.repositories import documents as repo
from pdf_service.repositories.documents import Content, Document
from pdf_service.snapshot import Snapshot
from shared.errors import Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from shared.logging import get_logger
from shared.validation import ascii_int

log = get_logger("pdf.documents")
# Part of every content hash: a new layout renders documents anew instead of serving old ones.
RENDERER_VERSION = "5"
# Part of every Factur-X's content hash: a new way of embedding makes them anew.
FACTURX_VERSION = "1"
PDF = "application/pdf"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")  # a hex HMAC-SHA256


def content_hash(snapshot: dict[str, Any]) -> str:
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{RENDERER_VERSION}\n{canonical}".encode()).hexdigest()


def safe_filename(name: str, extension: str) -> str:
    """A name a Content-Disposition header and any file system take: `<stem>.<extension>`."""
    stem = _UNSAFE.sub("-", name.removesuffix(f".{extension}")).strip("-.") or "document"
    return f"{stem[:100]}.{extension}"


def filename_for(snapshot: dict[str, Any]) -> str:
    return safe_filename(str(snapshot.get("label") or "document"), "pdf")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


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
        except BrokenProcessPool:
            raise ServiceUnavailable("The renderer is restarting.") from None
        except Exception as exc:
            # The snapshot passed validation, so this is a layout bug for this input; but it
            # is this input that cannot be drawn, not the service that is down.
            log.exception("render_failed", label=snapshot.get("label"))
            raise ValidationFailed.field(
                "snapshot", f"The document could not be drawn ({type(exc).__name__})."
            ) from None
        return await repo.insert(self._pool, digest, filename_for(snapshot), body), True

    async def render_snapshot(self, snapshot: Snapshot) -> tuple[Document, bool]:
        # What the layout reads (unknown keys left out), as billing sent it: the content hash.
        return await self.render(snapshot.model_dump(exclude_unset=True))

    async def facturx(self, source_id: uuid.UUID, xml: str, filename: str) -> tuple[Document, bool]:
        """The stored PDF `source_id` as a Factur-X PDF/A-3 with `xml` embedded, made once
        per (PDF, XML, name)."""
        source = await self.get(source_id)
        name = safe_filename(filename, "pdf")
        digest = _digest("facturx", FACTURX_VERSION, source.content_hash, name, xml)
        stored = await repo.by_hash(self._pool, digest)
        if stored is not None:
            return stored, False
        pdf = await self.content(source_id)
        if pdf.media_type != PDF:
            raise ValidationFailed.field("document_id", "Only a PDF can take an e-invoice.")
        loop = asyncio.get_running_loop()
        try:
            body = await loop.run_in_executor(self._renderer, make_facturx, pdf.body, xml.encode())
        except BrokenProcessPool:
            raise ServiceUnavailable("The renderer is restarting.") from None
        except Exception as exc:
            log.exception("facturx_failed", document_id=str(source_id))
            raise ValidationFailed.field(
                "xml", f"The XML could not be embedded ({type(exc).__name__})."
            ) from None
        return await repo.insert(self._pool, digest, name, body), True

    async def store(self, filename: str, media_type: str, text: str) -> tuple[Document, bool]:
        """A text file (an e-invoice XML) served like the PDFs, stored once per content."""
        extension = media_type.rpartition("/")[2]
        name = safe_filename(filename, extension)
        digest = _digest("file", media_type, name, text)
        stored = await repo.by_hash(self._pool, digest)
        if stored is not None:
            return stored, False
        return await repo.insert(self._pool, digest, name, text.encode(), media_type), True

    async def get(self, document_id: uuid.UUID) -> Document:
        document = await repo.by_id(self._pool, document_id)
        if document is None:
            raise NotFound("Document not found.")
        return document

    async def link_to(self, document_id: uuid.UUID, ttl: int | None = None) -> Link:
        """A signed link to a stored document (404 when there is none)."""
        await self.get(document_id)
        return self.link(document_id, ttl)

    async def content(self, document_id: uuid.UUID) -> Content:
        found = await repo.content(self._pool, document_id)
        if found is None:
            raise NotFound("Document not found.")
        return found

    def link(self, document_id: uuid.UUID, ttl: int | None = None) -> Link:
        expires = int(time.time()) + (ttl or self._ttl)
        signature = self._sign(document_id, expires)
        return Link(f"/files/{document_id}?expires={expires}&signature={signature}", expires)

    def verify(self, document_id: uuid.UUID, expires: str, signature: str) -> None:
        """403 unless the signature is ours and the link has not expired."""
        expiry = ascii_int(expires, max_digits=12)  # a Unix time, in ASCII digits only
        if expiry is None or not _SIGNATURE.fullmatch(signature):
            raise Forbidden("This link is not valid.")
        if expiry < time.time():
            raise Forbidden("This link has expired.")
        if not hmac.compare_digest(self._sign(document_id, expiry).encode(), signature.encode()):
            raise Forbidden("This link is not valid.")

    def _sign(self, document_id: uuid.UUID, expires: int) -> str:
        return hmac.new(self._key, f"{document_id}.{expires}".encode(), hashlib.sha256).hexdigest()
