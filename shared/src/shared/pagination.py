"""Laravel-style pagination: {"data", "links", "meta"} with page/per_page parameters, and the
keyset cursors that page deep lists without an offset."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel, Field, field_validator

from shared.errors import BadRequest
from shared.validation import MAX_ID, ascii_int

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100


class PageParams(BaseModel):
    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=DEFAULT_PER_PAGE, ge=1)

    @field_validator("per_page")
    @classmethod
    def _clamp(cls, value: int) -> int:
        # docs/api.md: larger is clamped to the maximum, not refused.
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


# --- keyset cursors ------------------------------------------------------------------------
# A cursor is base64 of the JSON [sort value as text, last id]. The client can send anything
# back, so each value is parsed into its column's type and bounded before it reaches SQL.
MAX_CURSOR_LENGTH = 512
_MAX_CURSOR_NUMBER = Decimal(10) ** 15  # beyond any amount the numeric columns hold


def encode_cursor(value: Any, last_id: int) -> str:
    text = value.isoformat() if isinstance(value, date) else str(value)
    raw = json.dumps([text, last_id], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bigint(text: str) -> int:
    number = ascii_int(text.removeprefix("-"), max_digits=19)
    if number is None or number > MAX_ID:
        raise ValueError("not a bigint")
    return -number if text.startswith("-") else number


def _numeric(text: str) -> Decimal:
    number = Decimal(text)
    if not number.is_finite() or abs(number) >= _MAX_CURSOR_NUMBER:
        raise ValueError("not a stored amount")
    return number


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("not a stored instant")
    return moment.astimezone(UTC)  # OverflowError at the ends of the calendar


def _text(text: str) -> str:
    text.encode()  # UnicodeEncodeError on lone surrogates
    if "\x00" in text:
        raise ValueError("NUL in text")
    return text


CURSOR_TYPES: dict[str, Callable[[str], Any]] = {
    "bigint": _bigint,
    "date": date.fromisoformat,
    "timestamptz": _instant,
    "numeric": _numeric,
    "text": _text,
}


def decode_cursor(cursor: str, sql_type: str) -> tuple[Any, int]:
    """The (sort value, id) a cursor carries, typed for the sort column; 400 if tampered."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(value, str) or type(last_id) is not int or not 0 <= last_id <= MAX_ID:
            raise ValueError("not a cursor of ours")
        return CURSOR_TYPES[sql_type](value), last_id
    except (ValueError, TypeError, ArithmeticError, binascii.Error, RecursionError):
        raise BadRequest("The cursor is not valid.") from None
