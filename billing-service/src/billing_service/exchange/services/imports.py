"""CSV imports of customers and products: every row validated with the API's own request
model (POST /customers, POST /products), nothing written unless every row is valid, the rows
then written in one transaction.

A file is read whole (at most MAX_IMPORT_BYTES, bounded while it is received) and holds at
most MAX_ROWS rows. Its header names the columns: the export's own names or the aliases of
other tools (schemas.CUSTOMER_COLUMNS, schemas.PRODUCT_COLUMNS); other columns are ignored
and listed in the answer. An empty cell is a field left out. A row is numbered as a
spreadsheet shows it: the header is row 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import ValidationError

from billing_service.companies.services.companies import PersonalTeams
from billing_service.companies.services.scoped import resolve_company
from billing_service.exchange import repositories as repo
from billing_service.exchange.schemas import (
    CUSTOMER_COLUMNS,
    PRODUCT_COLUMNS,
    READ_ONLY_COLUMNS,
    column_key,
)
from billing_service.parties.schemas.recipients import CustomerCreate
from billing_service.parties.schemas.resources import ProductCreate, ResourceBody
from billing_service.platform.csv_output import strip_neutraliser
from billing_service.platform.permissions import require
from billing_service.platform.repositories.crud import Row
from billing_service.platform.scope import Scope
from shared.errors import PayloadTooLarge, ValidationFailed
from shared.validation import errors_from_pydantic

MAX_ROWS = 10_000
# Where a file's errors are reported: `rows.<row>.<column as the file names it>`.
Errors = dict[str, list[str]]
Writer = Callable[[asyncpg.Connection, Scope, int, list[dict[str, Any]]], Awaitable[list[Row]]]


@dataclass(frozen=True)
class ImportKind:
    columns: dict[str, str]  # column_key(header) -> the request model's field
    model: type[ResourceBody]
    permission: str  # the role-matrix entry a create of one needs
    unique: str  # the field no two records may share (an e-mail, a SKU), case aside
    unique_word: str
    noun: str


KINDS = {
    "customers": ImportKind(
        CUSTOMER_COLUMNS, CustomerCreate, "recipients.write", "email", "e-mail", "customer"
    ),
    "products": ImportKind(
        PRODUCT_COLUMNS, ProductCreate, "products.write", "sku", "SKU", "product"
    ),
}


@dataclass(frozen=True)
class FileRow:
    number: int
    values: dict[str, str]  # field -> cell


@dataclass
class ParsedFile:
    headers: dict[str, str]  # field -> the header the file names it by
    ignored: list[str]
    rows: list[FileRow]


@dataclass(frozen=True)
class ImportOutcome:
    kind: str
    dry_run: bool
    rows: int
    ids: list[int]
    ignored_columns: list[str]


def read_file(body: bytes, kind: ImportKind) -> ParsedFile:
    """The file's header and rows; 422 on `file` when it cannot be read, 413 beyond MAX_ROWS."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _file_error(f"The file must be UTF-8 text (byte {error.start} is not).") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise _file_error("The file must start with a header row naming its columns.")
        parsed = _header(header, kind)
        fields = [kind.columns.get(column_key(name)) for name in header]
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            if len(parsed.rows) == MAX_ROWS:
                raise PayloadTooLarge(f"An import holds at most {MAX_ROWS:,} rows.")
            parsed.rows.append(_row(number, record, fields, len(header)))
    except csv.Error as error:
        raise _file_error(f"Row {reader.line_num} is not valid CSV: {error}.") from None
    if not parsed.rows:
        raise _file_error("The file has no rows below its header.")
    return parsed


def _header(header: list[str], kind: ImportKind) -> ParsedFile:
    headers: dict[str, str] = {}
    ignored = []
    for name in header:
        field = kind.columns.get(column_key(name))
        if field is None:
            if column_key(name) not in READ_ONLY_COLUMNS:
                ignored.append(name)
            continue
        if field in headers:
            raise _file_error(f"The columns {headers[field]!r} and {name!r} are both {field}.")
        headers[field] = name
    required = [
        field for field, info in kind.model.model_fields.items()
        if info.is_required() and field not in headers
    ]  # fmt: skip
    if required:
        raise _file_error(f"The file has no {required[0]} column.")
    return ParsedFile(headers, ignored, [])


def _row(number: int, record: list[str], fields: list[str | None], width: int) -> FileRow:
    if len(record) > width:
        return FileRow(number, {"": f"The row has {len(record)} cells, the header {width}."})
    values = {
        field: strip_neutraliser(cell)
        for field, cell in zip(fields, record, strict=False)
        if field is not None and cell.strip()
    }
    return FileRow(number, values)


Valid = list[tuple[int, dict[str, Any]]]  # (row number, the columns to write)


def validate_rows(parsed: ParsedFile, kind: ImportKind) -> tuple[Valid, Errors]:
    """Each row's columns to write, as the API's request model makes them; the errors by row
    and column. A row's duplicate of an earlier row's unique field is an error too."""
    valid: Valid = []
    errors: Errors = {}
    first_row: dict[str, int] = {}
    for row in parsed.rows:
        if "" in row.values:  # too many cells
            errors[f"rows.{row.number}"] = [row.values[""]]
            continue
        try:
            # The model's own validation (shared.validation.validate less its refusal of
            # nulls: a CSV cell is text, never null).
            values = kind.model.model_validate(row.values).changes()
        except ValidationError as failure:
            errors |= _at_row(parsed, row.number, errors_from_pydantic(failure))
            continue
        except ValidationFailed as failure:  # a rule across fields (a service's stock)
            errors |= _at_row(parsed, row.number, failure.errors or {})
            continue
        unique = (values.get(kind.unique) or "").lower()  # as PostgreSQL's lower() compares
        if unique and unique in first_row:
            errors[_where(parsed, row.number, kind.unique)] = [
                f"The {kind.unique_word} {values[kind.unique]} is also on row {first_row[unique]}."
            ]
            continue
        if unique:
            first_row[unique] = row.number
        valid.append((row.number, values))
    return valid, errors


def _at_row(parsed: ParsedFile, number: int, errors: Errors) -> Errors:
    return {_where(parsed, number, field): messages for field, messages in errors.items()}


def _where(parsed: ParsedFile, number: int, field: str) -> str:
    return f"rows.{number}.{parsed.headers.get(field, field)}"


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed.field("file", message)


class Imports:
    def __init__(
        self, pool: asyncpg.Pool, personal: PersonalTeams, writers: Mapping[str, Writer]
    ) -> None:
        self.pool = pool
        self.personal = personal
        self._writers = writers  # per kind: the parties service's create_many

    async def company(self, scope: Scope, kind: str, company_id: int | None) -> int:
        """The company imported into; the caller's role there must allow creating the kind."""
        async with self.pool.acquire() as conn, conn.transaction():
            company = await resolve_company(conn, scope, company_id, self.personal)
        require(scope, company, KINDS[kind].permission)
        return company

    async def run(
        self, scope: Scope, kind: str, company_id: int, body: bytes, *, dry_run: bool
    ) -> ImportOutcome:
        spec = KINDS[kind]
        parsed = read_file(body, spec)
        valid, errors = validate_rows(parsed, spec)
        async with self.pool.acquire() as conn, conn.transaction():
            await repo.lock_imports(conn, kind, company_id)
            errors |= await self._taken(conn, kind, company_id, parsed, valid)
            if errors:
                raise _refused(errors, len(parsed.rows))
            ids = []
            if not dry_run:
                rows = [values for _, values in valid]
                created = await self._writers[kind](conn, scope, company_id, rows)
                ids = [row["id"] for row in created]
        return ImportOutcome(kind, dry_run, len(valid), ids, parsed.ignored)

    async def _taken(
        self,
        conn: asyncpg.Connection,
        kind: str,
        company_id: int,
        parsed: ParsedFile,
        valid: Valid,
    ) -> Errors:
        """Rows whose e-mail (customers) or SKU (products) a record of the company has."""
        spec = KINDS[kind]
        wanted = {
            values[spec.unique].lower(): (number, values[spec.unique])
            for number, values in valid
            if values.get(spec.unique)
        }
        taken = await repo.taken(conn, kind, company_id, list(wanted))
        found = sorted(wanted[key] for key in taken)
        return {
            _where(parsed, number, spec.unique): [
                f"A {spec.noun} with the {spec.unique_word} {value} exists already."
            ]
            for number, value in found
        }


def _refused(errors: Errors, rows: int) -> ValidationFailed:
    bad = len({key.split(".")[1] for key in errors})
    first_key, first = next(iter(errors.items()))
    where = first_key.split(".", 2)
    place = f"row {where[1]}" + (f", column {where[2]}" if len(where) > 2 else "")
    return ValidationFailed(
        errors,
        message=f"{bad} of {rows} rows are invalid (first: {place}: {first[0]}); "
        "nothing was imported.",
    )
