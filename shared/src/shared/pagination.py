"""Laravel-style pagination: {"data", "links", "meta"} with page/per_page parameters."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel, Field, field_validator

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100


class PageParams(BaseModel):
    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=DEFAULT_PER_PAGE, ge=1)

    @field_validator("per_page")
    @classmethod
    def _clamp(cls, value: int) -> int:
        # API.md: larger is clamped to the maximum, not refused.
        return min(value, MAX_PER_PAGE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    params: PageParams


# Where clients reach the platform (a service's PUBLIC_BASE_URL setting, without a trailing /).
PUBLIC_BASE_URL = web.AppKey("public_base_url", str)


def public_base_url(request: web.Request) -> str:
    """The base of every absolute URL a service answers with. Configured, never read from the
    request: its Host and X-Forwarded-Host are the client's to choose, and a link built from
    them (a password-reset e-mail, a shared invoice link) would point wherever they say."""
    return request.config_dict[PUBLIC_BASE_URL]


def page_url(request: web.Request, page: int) -> str:
    query = dict(request.query)
    query["page"] = str(page)
    return f"{public_base_url(request)}{request.path}?{urlencode(query)}"


def paginated(request: web.Request, page: Page) -> dict[str, Any]:
    per_page = page.params.per_page
    current = page.params.page
    last_page = max(1, math.ceil(page.total / per_page))
    first_index = page.params.offset + 1 if page.items else None
    return {
        "data": page.items,
        "links": {
            "first": page_url(request, 1),
            "last": page_url(request, last_page),
            "prev": page_url(request, current - 1) if current > 1 else None,
            "next": page_url(request, current + 1) if current < last_page else None,
        },
        "meta": {
            "current_page": current,
            "from": first_index,
            "last_page": last_page,
            "path": public_base_url(request) + request.path,
            "per_page": per_page,
            "to": page.params.offset + len(page.items) if page.items else None,
            "total": page.total,
        },
    }
