"""Generic SQL for the plain tenant-owned resources (organisations, invoicers, payment
details, recipients, products). Column names come from the Table definitions, never input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg

from billing_service.platform.repositories.sql import Conditions

Row = dict[str, Any]
Db: TypeAlias = asyncpg.Pool | asyncpg.Connection


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]  # readable, besides id, company_id and the timestamps
    writable: tuple[str, ...]
    hidden: str | None = None  # a condition on rows no list or lookup returns (archived)

    @property
    def select_list(self) -> str:
        return ", ".join(("id", "company_id", *self.columns, "created_at", "updated_at"))

    def visible(self, condition: str) -> str:
        """The condition, restricted to the rows lists and lookups may return."""
        return f"({condition}) AND NOT ({self.hidden})" if self.hidden else condition


def _row(record: asyncpg.Record | None) -> Row | None:
    return dict(record) if record is not None else None


async def page(
    db: Db, table: Table, where: Conditions, *, order: str, limit: int, offset: int
) -> list[Row]:
    limit_at, offset_at = where.param(limit), where.param(offset)
    sql = (
        f"SELECT {table.select_list} FROM {table.name} WHERE {table.visible(where.sql)} "
        f"ORDER BY {order} LIMIT {limit_at} OFFSET {offset_at}"
    )
    return [dict(record) for record in await db.fetch(sql, *where.params)]


async def count(db: Db, table: Table, where: Conditions, cap: int) -> int:
    """Matching rows, counted up to `cap` (a bounded cost however large the table)."""
    cap_at = where.param(cap)
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {table.name} WHERE {table.visible(where.sql)} "
        f"LIMIT {cap_at}) t"
    )
    return int(await db.fetchval(sql, *where.params))


async def one(
    db: Db, table: Table, row_id: int, company_ids: list[int], *, lock: bool = False
) -> Row | None:
    condition = table.visible("id = $1 AND company_id = ANY($2)")
    sql = f"SELECT {table.select_list} FROM {table.name} WHERE {condition}" + (
        " FOR UPDATE" if lock else ""
    )
    return _row(await db.fetchrow(sql, row_id, company_ids))


def _insert_sql(table: Table, names: tuple[str, ...]) -> str:
    placeholders = ", ".join(f"${i}" for i in range(2, len(names) + 2))
    return (
        f"INSERT INTO {table.name} (company_id{''.join(', ' + n for n in names)}) "
        f"VALUES ($1{', ' if names else ''}{placeholders}) RETURNING {table.select_list}"
    )


def _written(table: Table, values: Row) -> tuple[str, ...]:
    return tuple(name for name in table.writable if name in values)


async def insert(db: Db, table: Table, company_id: int, values: Row) -> Row:
    names = _written(table, values)
    row = _row(
        await db.fetchrow(_insert_sql(table, names), company_id, *(values[n] for n in names))
    )
    assert row is not None
    return row


async def insert_many(
    conn: asyncpg.Connection, table: Table, company_id: int, rows: list[Row]
) -> list[Row]:
    """Many rows of one company, each as `insert` writes it, in their order: pipelined (one
    statement per set of columns given, its rows sent without waiting for each answer)."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, values in enumerate(rows):
        groups.setdefault(_written(table, values), []).append(index)
    inserted: dict[int, Row] = {}
    for names, indexes in groups.items():
        arguments = [(company_id, *(rows[i][n] for n in names)) for i in indexes]
        records = await conn.fetchmany(_insert_sql(table, names), arguments)
        inserted.update(zip(indexes, (dict(record) for record in records), strict=True))
    return [inserted[index] for index in range(len(rows))]


async def update(db: Db, table: Table, row_id: int, values: Row) -> Row:
    names = [name for name in table.writable if name in values]
    assignments = "".join(f"{name} = ${i}, " for i, name in enumerate(names, start=2))
    sql = (
        f"UPDATE {table.name} SET {assignments}updated_at = now() WHERE id = $1 "
        f"RETURNING {table.select_list}"
    )
    row = _row(await db.fetchrow(sql, row_id, *(values[name] for name in names)))
    assert row is not None
    return row


async def delete(db: Db, table: Table, row_id: int) -> None:
    await db.execute(f"DELETE FROM {table.name} WHERE id = $1", row_id)


async def clear_default(
    db: Db, table: Table, scope_column: str, scope_id: int, keep_id: int
) -> None:
    """Only one default per scope (company or parent): unset the others."""
    await db.execute(
        f"UPDATE {table.name} SET is_default = false WHERE {scope_column} = $1 AND id <> $2 "
        "AND is_default",
        scope_id,
        keep_id,
    )


def in_companies(company_ids: list[int], company_id: int | None = None) -> Conditions:
    """A list's scope: the caller's companies, narrowed to one when a query names it."""
    where = Conditions().add("company_id = ANY({})", company_ids)
    if company_id is not None:
        where.add("company_id = {}", company_id)
    return where


def containing(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, its wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
