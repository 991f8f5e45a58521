"""What the resource services share: company resolution, scoped pages, delete rules."""

from __future__ import annotations

from typing import NoReturn

import asyncpg

from billing_service.companies.services.companies import PersonalTeams
from billing_service.platform.permissions import require
from billing_service.platform.references import NOUNS, denied_reference, invalid_reference
from billing_service.platform.repositories import crud
from billing_service.platform.repositories import scope as scope_repo
from billing_service.platform.repositories.crud import Row, Table
from billing_service.platform.repositories.sql import Conditions
from billing_service.platform.scope import Scope
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.pagination import Page, PageParams

# Lists count at most this many rows (docs/api.md: meta.total is exact up to it, then capped), so
# a page never pays for counting a huge table.
COUNT_CAP = 10_000


async def named(db: crud.Db, scope: Scope, table: str, row_id: int, field: str) -> int:
    """The company of a record a body or query names (or of the company itself), which must
    be one the caller belongs to. Another tenant's is 403 COMPANY_ACCESS_DENIED, an id that
    exists nowhere a 422 on the field (docs/api.md). Path ids are not checked here: outside the
    caller's scope they stay 404."""
    if table == "companies" and scope.role_in(row_id) is not None and not scope.is_client:
        return row_id  # one of the caller's memberships: it exists, nothing to look up
    owner = await scope_repo.owner_company(db, table, row_id)
    if owner is None:
        raise invalid_reference(field)
    if scope.role_in(owner) is None:
        raise denied_reference(table, field)
    return owner


async def refuse_reference(
    db: crud.Db, scope: Scope, table: str, row_id: int, field: str
) -> NoReturn:
    """A named record that is not the company's the write is for: 403 or 422 as `named`
    decides; one of the caller's other companies' records is a 422 on the field."""
    await named(db, scope, table, row_id, field)
    raise ValidationFailed.field(field, f"The {NOUNS[table]} belongs to another company.")


async def resolve_company(
    conn: asyncpg.Connection, scope: Scope, company_id: int | None, personal: PersonalTeams
) -> int:
    """The company a create names, else the caller's current (or only) company. A member in
    no company gets their personal team now, in the caller's transaction."""
    if company_id is not None:
        return await named(conn, scope, "companies", company_id, "company_id")
    if not scope.roles and not scope.is_client:
        scope.joined(await personal.ensure(conn, scope.user_id))
    current = await scope_repo.current_company(conn, scope.user_id)
    if current is not None and current in scope.roles:
        return current
    if len(scope.roles) == 1:
        return next(iter(scope.roles))
    raise ValidationFailed.field("company_id", "The company id field is required.")


async def company_conditions(
    db: crud.Db, scope: Scope, company_id: int | None = None
) -> Conditions:
    """The caller's companies, or the one `?company_id=` names (checked as `named` does)."""
    if company_id is not None:
        company_id = await named(db, scope, "companies", company_id, "company_id")
    return crud.in_companies(scope.company_ids, company_id)


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
    """Delete the row, or 409 while other records (invoices, an organisation's recipients)
    reference it."""
    try:
        async with conn.transaction():
            await crud.delete(conn, table, row_id)
    except asyncpg.ForeignKeyViolationError:
        raise Conflict(f"The {what} is still referenced by other records.") from None
