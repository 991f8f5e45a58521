"""A create or an update of an invoice as the request gives it and the editor takes it: the
words both sides share, below both (schemas.invoices builds one, services.invoice_editing
applies it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass
class Draft:
    """A create or an update, as validated by the handler (API names already resolved)."""

    fields: dict[str, Any]
    items: list[dict[str, Any]] | None = None
    members: list[dict[str, Any]] | None = None
    company_id: int | None = None
    status: str | None = None
    paid_at: date | None = None  # a record imported as paid: the day it was
