"""SQL for stored documents, keyed by the hash of the snapshot they were rendered from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Document:
    id: uuid.UUID
    content_hash: str
    filename: str


FIND_BY_HASH = "SELECT id, content_hash, filename FROM documents WHERE content_hash = $1"
FIND = "SELECT id, content_hash, filename FROM documents WHERE id = $1"
CONTENT = "SELECT filename, media_type, pdf FROM documents WHERE id = $1"
INSERT = """
INSERT INTO documents (id, content_hash, filename, media_type, pdf) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (content_hash) DO NOTHING
"""


@dataclass(frozen=True)
class Content:
    filename: str
    media_type: str
    body: bytes


def _document(row: asyncpg.Record | None) -> Document | None:
    return Document(row["id"], row["content_hash"], row["filename"]) if row else None


async def by_hash(pool: asyncpg.Pool, content_hash: str) -> Document | None:
    return _document(await pool.fetchrow(FIND_BY_HASH, content_hash))


async def by_id(pool: asyncpg.Pool, document_id: uuid.UUID) -> Document | None:
    return _document(await pool.fetchrow(FIND, document_id))


async def content(pool: asyncpg.Pool, document_id: uuid.UUID) -> Content | None:
    row = await pool.fetchrow(CONTENT, document_id)
    return Content(row["filename"], row["media_type"], bytes(row["pdf"])) if row else None


async def insert(
    pool: asyncpg.Pool,
    content_hash: str,
    filename: str,
    body: bytes,
    media_type: str = "application/pdf",
) -> Document:
    """Store a file; a concurrent store of the same content keeps the first one."""
    await pool.execute(INSERT, uuid.uuid4(), content_hash, filename, media_type, body)
    stored = await by_hash(pool, content_hash)
    assert stored is not None
    return stored
