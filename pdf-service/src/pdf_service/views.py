"""What pdf-service answers in JSON (its files are PDFs)."""

from __future__ import annotations

import uuid

from pydantic import Field

from shared.models import View


class DocumentView(View):
    id: uuid.UUID
    filename: str
    rendered: bool = Field(description="False when an identical snapshot was stored already.")


class LinkView(View):
    path: str = Field(description="`/files/{id}?expires=...&signature=...`, on the gateway.")
    expires_at: int = Field(description="Unix time the link stops working.")
