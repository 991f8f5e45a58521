"""The queries of the document operations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.models import Body


class DownloadQuery(Body):
    version: Literal["current", "issued"] = Field(
        default="current",
        description="`current`: the PDF of the invoice as it is now (paid, credited, due as "
        "the API says); `issued`: the PDF as it was first issued, kept for audit.",
    )
