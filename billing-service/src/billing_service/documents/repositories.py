"""SQL of the PDFs of invoices as first issued (migration 030)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from billing_service.platform.repositories.crud import Db


@dataclass(frozen=True)
class IssuedDocument:
    invoice_id: int
    document_id: str | None  # None until pdf-service has rendered `snapshot`
    snapshot: dict[str, Any] | None


# The first approval's snapshot wins: an invoice is issued once.
KEEP_ISSUED = """
INSERT INTO invoice_issued_documents (invoice_id, snapshot) VALUES ($1, $2::json)
ON CONFLICT (invoice_id) DO NOTHING
"""
SET_ISSUED_DOCUMENT = """
UPDATE invoice_issued_documents SET document_id = $2, snapshot = NULL
WHERE invoice_id = $1 AND document_id IS NULL
"""
ADD_ISSUED_DOCUMENT = """
INSERT INTO invoice_issued_documents (invoice_id, document_id) VALUES ($1, $2)
ON CONFLICT (invoice_id) DO NOTHING
"""
ISSUED = """
SELECT invoice_id, document_id::text, snapshot::text FROM invoice_issued_documents
WHERE invoice_id = $1
"""


async def keep_issued(db: Db, invoice_id: int, snapshot: dict[str, Any]) -> None:
    await db.execute(KEEP_ISSUED, invoice_id, json.dumps(snapshot))


async def set_issued_document(db: Db, invoice_id: int, document_id: str) -> None:
    await db.execute(SET_ISSUED_DOCUMENT, invoice_id, document_id)


async def add_issued_document(db: Db, invoice_id: int, document_id: str) -> None:
    await db.execute(ADD_ISSUED_DOCUMENT, invoice_id, document_id)


async def issued(db: Db, invoice_id: int) -> IssuedDocument | None:
    row = await db.fetchrow(ISSUED, invoice_id)
    if row is None:
        return None
    snapshot = json.loads(row["snapshot"]) if row["snapshot"] is not None else None
    return IssuedDocument(row["invoice_id"], row["document_id"], snapshot)
