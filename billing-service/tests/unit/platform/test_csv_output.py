import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from billing_service.platform.csv_output import csv_document, safe_cell, strip_neutraliser


@pytest.mark.parametrize("text", ["=SUM(A1:A3)", "+1+2", "-2+3", "@cmd", "\tx", "\r=1"])
def test_text_a_spreadsheet_would_execute_is_neutralised_and_round_trips(text: str) -> None:
    cell = safe_cell(text)
    assert cell == "'" + text
    assert strip_neutraliser(cell) == text


def test_numbers_and_plain_text_are_written_as_they_are() -> None:
    assert safe_cell(Decimal("-12.50")) == "-12.50"
    assert safe_cell(3) == "3"
    assert safe_cell(date(2026, 1, 2)) == "2026-01-02"
    assert safe_cell(None) == ""
    assert safe_cell(True) == "true"
    assert safe_cell("O'Brien") == "O'Brien"
    assert strip_neutraliser("'quoted'") == "'quoted'"


def test_document_is_rfc_4180_with_crlf_and_doubled_quotes() -> None:
    body = csv_document(["name", "note"], [["Acme, Inc.", 'say "hi"\nnext line'], ["=1", None]])
    assert body.startswith(b"name,note\r\n")
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert rows == [["name", "note"], ["Acme, Inc.", 'say "hi"\nnext line'], ["'=1", ""]]
    assert b'"say ""hi""\nnext line"' in body


class _Label(str):
    """A str subclass: the by-type fast path does not know it, the checks below it do."""


def test_the_fast_path_and_the_general_checks_agree() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert safe_cell(moment) == "2026-01-02T03:04:05.000006+00:00"
    assert safe_cell(False) == "false"
    assert safe_cell(_Label("=1")) == "'=1"
    assert safe_cell(_Label("plain")) == "plain"


def test_rows_without_header_are_what_the_document_has_after_its_header() -> None:
    from billing_service.platform.csv_output import csv_rows

    rows = [["Acme, Inc.", Decimal("-1.50")], ["=1", None], ['q"uote', date(2026, 1, 2)]]
    document = csv_document(["name", "amount"], rows)
    assert document == b"name,amount\r\n" + csv_rows(rows)
    assert csv_rows([]) == b""
