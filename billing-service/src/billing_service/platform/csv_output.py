"""CSV as the reports and exports write it: RFC 4180 (comma, CRLF, quotes doubled), UTF-8.

A text cell that a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, tab or
carriage return) is prefixed with a single quote, OWASP's "CSV injection" defence; an import
strips that quote again, so a round trip gives the text back (`strip_neutraliser`). Numbers,
dates and money are written as they are: `-12.50` is a credit, not a formula, and only text
can carry one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"
MEDIA_TYPE = "text/csv"

Cell = str | int | Decimal | date | datetime | bool | None


def _neutralised(text: str) -> str:
    return NEUTRALISER + text if text.startswith(FORMULA_STARTS) else text


# The usual cell types, by exact type: one lookup instead of the isinstance chain below (an
# export's cost is mostly this function, a million times).
_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: _neutralised,
    type(None): lambda _: "",
    int: int.__str__,
    Decimal: Decimal.__str__,
    date: date.isoformat,
    datetime: datetime.isoformat,
    bool: lambda value: "true" if value else "false",
}


def safe_cell(value: Cell) -> str:
    """The cell's text, neutralised when it is text a spreadsheet would execute."""
    shown = _BY_TYPE.get(type(value))
    if shown is not None:
        return shown(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    return _neutralised(value)


def strip_neutraliser(text: str) -> str:
    """An imported cell as it was before `safe_cell` neutralised it."""
    if text.startswith(NEUTRALISER) and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """The header line, then one encoded chunk per row (for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def take() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode()

    writer.writerow(header)
    yield take()
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        yield take()


def csv_rows(rows: Iterable[Sequence[Cell]]) -> bytes:
    """Rows without a header, encoded as one block: a streamed answer written a batch of rows
    at a time (after `csv_chunks(header, [])`)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(
        [safe_cell(value) for value in row] for row in rows
    )
    return buffer.getvalue().encode()


def csv_document(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """A whole (small) CSV document, such as a report."""
    return b"".join(csv_chunks(header, rows))
