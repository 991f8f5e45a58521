"""SQL of invoice lists: filters, sorts, keyset cursors, counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from billing_service.invoices import lifecycle
from billing_service.invoices.repositories.invoices import LISTED_SELECT, ListedInvoice, listed
from billing_service.platform.repositories.crud import Db
from billing_service.platform.repositories.sql import Conditions
from shared.pagination import PageParams


@dataclass(frozen=True)
class ListQuery:
    params: PageParams
    status: str | None = None  # a status, or lifecycle.OVERDUE
    statuses: list[str] | None = None  # any of these (a client-portal word stands for several)
    type: str | None = None
    search: str | None = None
    company_id: int | None = None
    recipient_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "-id"
    cursor: str | None = None

    @property
    def counted_exactly(self) -> bool:
        """Only company, type and status filter the list: the kept counts answer it."""
        return (
            self.statuses is None
            and self.status != lifecycle.OVERDUE
            and not self.search
            and self.recipient_id is None
            and self.date_from is None
            and self.date_to is None
        )


# Sorts clients may ask for: API name -> (column, its SQL type for keyset cursors).
SORTS: dict[str, tuple[str, str | None]] = {
    "id": ("id", "bigint"),
    "created_at": ("created_at", "timestamptz"),
    "scheduled_date": ("scheduled_date", "date"),
    "issue_date": ("scheduled_date", "date"),
    "total": ("total", "numeric"),
    "label": ("label", "text"),
    "invoice_number": ("label", "text"),
    "due_date": ("due_date", None),  # nullable: no cursor
}


@dataclass(frozen=True)
class Sort:
    column: str
    sql_type: str | None  # None: the column is nullable, so no keyset cursor pages it
    descending: bool

    @classmethod
    def parse(cls, sort: str) -> Sort:
        column, sql_type = SORTS.get(sort.lstrip("-"), SORTS["id"])
        return cls(column, sql_type, sort.startswith("-"))

    @property
    def order(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        return f"i.{self.column} {direction}, i.id {direction}"


def filter_list(
    where: Conditions, query: ListQuery, types: list[str] | None, now: datetime
) -> bool:
    """Add the query's filters to `where`; True when they need the recipient joined."""
    if query.company_id is not None:
        where.add("i.company_id = {}", query.company_id)
    if types is not None:
        where.add("i.type = ANY({})", types)
    if query.status == lifecycle.OVERDUE:
        _overdue(where, now)
    elif query.status is not None:
        where.add("i.status = {}", query.status)
    if query.statuses is not None:
        where.add("i.status = ANY({})", query.statuses)
    if query.recipient_id is not None:
        where.add("i.invoice_recipient_id = {}", query.recipient_id)
    if query.date_from is not None:
        where.add("i.scheduled_date >= {}", query.date_from)
    if query.date_to is not None:
        where.add("i.scheduled_date <= {}", query.date_to)
    if query.search:
        escaped = query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.add("(i.label ILIKE {0} OR r.company_entity ILIKE {0})", f"%{escaped}%")
        return True
    return False


def _overdue(where: Conditions, now: datetime) -> None:
    """lifecycle's overdue in SQL, judged by each company's own date."""
    where.add("i.status = ANY({})", sorted(lifecycle.AWAITING_PAYMENT))
    where.add(
        "i.due_date < (SELECT ({}::timestamptz AT TIME ZONE c.timezone)::date "
        "FROM companies c WHERE c.id = i.company_id)",
        now,
    )
    where.add("i.total > i.amount_paid + i.amount_credited")


async def page(
    db: Db,
    where: Conditions,
    sort: Sort,
    *,
    after: tuple[Any, int] | None,
    limit: int,
    offset: int,
) -> list[ListedInvoice]:
    """A page in the sort's order: from `offset`, or after the (value, id) of a cursor."""
    if after is not None:
        comparison = "<" if sort.descending else ">"
        where.add(
            f"(i.{sort.column}, i.id) {comparison} ({{}}::{sort.sql_type}, {{}}::bigint)", *after
        )
        offset = 0
    limit_at, offset_at = where.param(limit), where.param(offset)
    sql = (
        f"{LISTED_SELECT} WHERE {where.sql} ORDER BY {sort.order} "
        f"LIMIT {limit_at} OFFSET {offset_at}"
    )
    return [listed(row) for row in await db.fetch(sql, *where.params)]


async def count(db: Db, where: Conditions, cap: int, *, needs_recipient: bool) -> int:
    cap_at = where.param(cap)
    join = "LEFT JOIN recipients r ON r.id = i.invoice_recipient_id " if needs_recipient else ""
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM invoices i {join}WHERE {where.sql} LIMIT {cap_at}) t"
    )
    return int(await db.fetchval(sql, *where.params))


COUNTED = """
SELECT coalesce(sum(count), 0) FROM invoice_counts
WHERE company_id = ANY($1) AND ($2::text[] IS NULL OR type = ANY($2))
  AND ($3::text IS NULL OR status = $3)
"""


async def counted(
    db: Db, company_ids: list[int], kinds: list[str] | None, status: str | None
) -> int:
    """The exact number of live invoices of these types (None: all), from the trigger-kept
    counts (no row is counted)."""
    return int(await db.fetchval(COUNTED, company_ids, kinds, status))
