"""Field types every service's request models reuse: text that stays on one line, dates in a
sane range. Bounds are checked where input is read, so nothing further down (e-mail headers,
date arithmetic, the database) ever sees a value it cannot handle. (NUL characters and lone
surrogates are refused in every string of a body or query: shared.validation.)"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)

# Unicode category Cc (C0, DEL, C1), plus the line and paragraph separators some clients and
# mail readers treat as line breaks.
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Multi-line text keeps tab, line feed and carriage return.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _single_line(value: str) -> str:
    if _LINE_BREAKING.search(value):
        raise ValueError("must be a single line without control characters")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL_IN_TEXT.search(value):
        raise ValueError("must not contain control characters")
    return value


def _iso_date_input(value: Any) -> Any:
    """Only YYYY-MM-DD in ASCII digits (pydantic alone also takes numbers as timestamps)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("must be a valid date (YYYY-MM-DD)")


def _in_range(value: date) -> date:
    # A date-time is judged by its own calendar day: no conversion that could overflow.
    day = value.date() if isinstance(value, datetime) else value
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueError(f"must be a date between {MIN_DATE} and {MAX_DATE}")
    return value


def _published_pattern(pattern: str) -> Any:
    """The text rule as the schema's pattern, unless the field states a stricter one."""

    def publish(schema: dict[str, Any]) -> None:
        schema.setdefault("pattern", pattern)

    return publish


def published(**keywords: Any) -> Any:
    """`json_schema_extra` for a text type built on SingleLine or MultiLine: what its schema
    says beyond them (a pattern pydantic leaves out when a validator runs first, a format)."""

    def publish(schema: dict[str, Any]) -> None:
        schema.update(keywords)

    return publish


# Labels, names, subjects, references: anything that may end up in a header or on one line.
SingleLine = Annotated[
    str,
    AfterValidator(_single_line),
    Field(
        json_schema_extra=_published_pattern("^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$")
    ),
]
# Notes, descriptions, addresses, messages.
MultiLine = Annotated[
    str,
    AfterValidator(_multi_line),
    Field(
        json_schema_extra=_published_pattern(
            "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
        )
    ),
]

# The WHATWG "valid e-mail address" (what browsers accept in <input type=email>) with the
# local part a dot-atom (RFC 5322) and a dot in the domain: every address it admits is one
# email.headerregistry and SMTP servers take, so nothing accepted here fails in the mailer.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL_PATTERN = (
    rf"^{_ATEXT}(?:\.{_ATEXT})*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def _no_encoded_word(address: str) -> str:
    # "=?" starts an RFC 2047 encoded word, which the header parser then refuses.
    if "=?" in address:
        raise ValueError("must be a valid email address")
    return address


Email = Annotated[
    SingleLine,
    Field(max_length=255, pattern=_EMAIL_PATTERN),
    AfterValidator(_no_encoded_word),
    # pydantic leaves a pattern checked after a validator out of the schema: said here.
    Field(json_schema_extra=published(format="email", pattern=_EMAIL_PATTERN)),
]
# The years MIN_DATE..MAX_DATE allow, for the schema (the day itself: `format`).
_IN_RANGE = "^(19[0-9]{2}|2[0-9]{3})-"
IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date_input),
    AfterValidator(_in_range),
    Field(json_schema_extra={"pattern": _IN_RANGE + "[0-9]{2}-[0-9]{2}$"}),
]
DateTime = Annotated[
    datetime, AfterValidator(_in_range), Field(json_schema_extra={"pattern": _IN_RANGE})
]
AwareDateTime = Annotated[
    AwareDatetime, AfterValidator(_in_range), Field(json_schema_extra={"pattern": _IN_RANGE})
]
