"""The bases of every request and response model."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    """A request body or query: unknown fields are ignored (the seeds' clients send extra
    ones), text is stripped of surrounding whitespace."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    # Optional fields that may be left out but not sent as null (a partial update of a NOT
    # NULL column): shared.validation refuses the null, shared.openapi publishes them as
    # not nullable. Every other `X | None` field takes null.
    not_null: ClassVar[frozenset[str]] = frozenset()


class View(BaseModel):
    """An answer's record: built by the service from trusted values, serialised by field
    name or alias exactly as declared (the document is generated from the same model)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
