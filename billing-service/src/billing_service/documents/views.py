"""The answers about a record's PDF: its signed download link, a regeneration."""

from __future__ import annotations

from datetime import datetime

from shared.models import View


class DownloadLink(View):
    invoice_id: int
    download_url: str
    expires_at: datetime


class DownloadAnswer(View):
    data: DownloadLink
    # InvoiceMee's clients read these at the top level.
    download_url: str
    expires_at: datetime


class RegeneratedPdf(View):
    id: int
    pdf_url: str | None  # None for a token that may not download the PDF (or on replay)
    expires_at: datetime | None
