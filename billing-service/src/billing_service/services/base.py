"""What the resource services share: company resolution, scoped pages, delete rules."""

from __future__ import annotations

from typing import Any

import asyncpg

from billing_service.permissions import require
from billing_service.repositories import crud
from billing_service.repositories import scope as scope_repo
from billing_service.repositories.crud import Row, Table
from billing_service.repositories.sql import Conditions
from billing_service.scope import Scope
from billing_service.services.companies import PersonalTeams
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.pagination import Page, PageParams

# Lists count at most this many rows (API.md: meta.total is exact up to it, then capped), so
# a page never pays for counting a huge table.
COUNT_CAP = 10_000


async def resolve_company(
    conn: asyncpg.Connection, scope: Scope, company_id: int | None, personal: PersonalTeams
) -> int:
    """The company a create names, else the caller's current (or only) company. A member in
    no company gets their personal team now, in the caller's transaction."""
    if company_id is not None:
        return scope.company(company_id)
    if not scope.roles and not scope.is_client:
        scope.joined(await personal.ensure(conn, scope.user_id))
    current = await scope_repo.current_company(conn, scope.user_id)
    if current is not None and current in scope.roles:
        return current
    if len(scope.roles) == 1:
        return next(iter(scope.roles))
    raise ValidationFailed.field("company_id", "The company id field is required.")


def company_conditions(scope: Scope, company_id: int | None = None) -> Conditions:
    where = Conditions().add("company_id = ANY({})", scope.company_ids)
    if company_id is not None:
        where.add("company_id = {}", scope.company(company_id))
    return where


async def scoped_page(
    db: crud.Db, table: Table, where: Conditions, params: PageParams, order: str = "id DESC"
) -> Page:
    total_where = Conditions(list(where.parts), list(where.params))
    rows = await crud.page(
        db, table, where, order=order, limit=params.per_page, offset=params.offset
    )
    total = await crud.count(db, table, total_where, COUNT_CAP)
    return Page(rows, total, params)


async def get_scoped(
    db: crud.Db, table: Table, scope: Scope, row_id: int, *, lock: bool = False
) -> Row:
    row = await crud.one(db, table, row_id, scope.company_ids, lock=lock)
    if row is None:
        raise NotFound()
    return row


async def delete_unreferenced(
    pool: asyncpg.Pool, table: Table, scope: Scope, row_id: int, what: str, permission: str
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        row = await get_scoped(conn, table, scope, row_id, lock=True)
        require(scope, row["company_id"], permission)
        await delete_row(conn, table, row["id"], what)


async def delete_row(conn: asyncpg.Connection, table: Table, row_id: int, what: str) -> None:
    """Delete the row, or 409 while invoices reference it."""
    try:
        async with conn.transaction():
            await crud.delete(conn, table, row_id)
    except asyncpg.ForeignKeyViolationError:
        raise Conflict(f"The {what} is still referenced by invoices.") from None


def rename(values: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """API names -> column names (e.g. `default` -> `is_default`)."""
    return {mapping.get(key, key): value for key, value in values.items()}
