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
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"
MEDIA_TYPE = "text/csv"

Cell = str | int | Decimal | date | datetime | bool | None


def safe_cell(value: Cell) -> str:
    """The cell's text, neutralised when it is text a spreadsheet would execute."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    if value.startswith(FORMULA_STARTS):
        return NEUTRALISER + value
    return value


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


def csv_document(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """A whole (small) CSV document, such as a report."""
    return b"".join(csv_chunks(header, rows))
