"""The generic service of the company-owned resources, and organisations, invoicers and
their payment details (recipients, products: their own modules)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import asyncpg

from billing_service.companies.services.companies import PersonalTeams, slugify
from billing_service.companies.services.scoped import (
    company_conditions,
    delete_unreferenced,
    get_scoped,
    named,
    resolve_company,
    scoped_page,
)
from billing_service.parties import repositories as repo
from billing_service.parties.schemas.resources import CompanyFilter
from billing_service.platform.permissions import require
from billing_service.platform.references import NOUNS
from billing_service.platform.repositories import crud
from billing_service.platform.repositories.crud import Row, Table
from billing_service.platform.repositories.sql import Conditions
from billing_service.platform.scope import Scope
from shared.errors import NotFound, ValidationFailed
from shared.pagination import Page

FilterT = TypeVar("FilterT", bound=CompanyFilter)


class ResourceService(Generic[FilterT]):
    """CRUD over one company-owned table, scoped to the caller's companies; its lists take
    the filters `FilterT`."""

    table: Table
    what = "record"
    permission: str  # the role-matrix entry its writes need (billing_service.platform.permissions)

    def __init__(self, pool: asyncpg.Pool, personal: PersonalTeams) -> None:
        self.pool = pool
        self.personal = personal  # a create without a company may make the member's team

    async def shown(self, rows: list[Row]) -> list[Row]:
        """The rows as the answers show them (a recipient with what it has been invoiced)."""
        return rows

    async def list(self, scope: Scope, query: FilterT) -> Page:
        return await scoped_page(self.pool, self.table, await self.conditions(scope, query), query)

    async def get(self, scope: Scope, row_id: int) -> Row:
        return await get_scoped(self.pool, self.table, scope, row_id)

    async def conditions(self, scope: Scope, query: FilterT) -> Conditions:
        """A list's conditions: the caller's companies, or the one `?company_id=` names."""
        return await company_conditions(self.pool, scope, query.company_id)

    async def create(self, scope: Scope, company_id: int | None, values: dict[str, Any]) -> Row:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                company = await resolve_company(conn, scope, company_id, self.personal)
                require(scope, company, self.permission)
                values = await self.prepare(conn, scope, company, values, None)
                row = await crud.insert(conn, self.table, company, values)
                await self.after_write(conn, row)
                await self.announce(conn, "created", row)
                return row
        except asyncpg.UniqueViolationError:  # a concurrent create took the same slug
            raise ValidationFailed.field("slug", "The slug has already been taken.") from None

    async def update(
        self, scope: Scope, row_id: int, values: dict[str, Any], company_id: int | None = None
    ) -> Row:
        """`company_id`, when the body repeats it (InvoiceMee's PUT lists it), must name the
        record's own company: records do not move between companies."""
        async with self.pool.acquire() as conn, conn.transaction():
            current = await get_scoped(conn, self.table, scope, row_id, lock=True)
            require(scope, current["company_id"], self.permission)
            if company_id is not None:
                await self._same_company(conn, scope, company_id, current)
            values = await self.prepare(conn, scope, current["company_id"], values, current)
            row = await crud.update(conn, self.table, row_id, values)
            await self.after_write(conn, row)
            await self.announce(conn, "updated", row)
            return row

    async def delete(self, scope: Scope, row_id: int) -> None:
        await delete_unreferenced(self.pool, self.table, scope, row_id, self.what, self.permission)

    async def _same_company(
        self, conn: asyncpg.Connection, scope: Scope, company_id: int, current: Row
    ) -> None:
        if await named(conn, scope, "companies", company_id, "company_id") != current["company_id"]:
            raise ValidationFailed.field(
                "company_id", f"The {NOUNS[self.table.name]} cannot move to another company."
            )

    async def prepare(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        company_id: int,
        values: dict[str, Any],
        current: Row | None,
    ) -> dict[str, Any]:
        return values

    async def after_write(self, conn: asyncpg.Connection, row: Row) -> None:
        if row.get("is_default"):
            await crud.clear_default(conn, self.table, "company_id", row["company_id"], row["id"])

    async def announce(self, conn: asyncpg.Connection, verb: str, row: Row) -> None:
        """The event of a write (services.events) in its transaction, for the resources
        receivers may subscribe to (recipients); none for the others."""


class OrganisationService(ResourceService[CompanyFilter]):
    table = repo.ORGANISATIONS
    what = "organisation"
    permission = "organisations.write"

    async def prepare(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        company_id: int,
        values: dict[str, Any],
        current: Row | None,
    ) -> dict[str, Any]:
        if "slug" in values or current is None:
            name = values.get("name") or (current or {}).get("name") or "organisation"
            base = values.get("slug") or slugify(name)
            # Held to the end of the transaction: concurrent creates pick different slugs
            # instead of one slug twice (and a 422 on a slug nobody sent).
            await repo.lock_organisation_slugs(conn, company_id)
            taken = await repo.organisation_slugs(
                conn, company_id, except_id=current["id"] if current else 0
            )
            if values.get("slug") and values["slug"] in taken:
                raise ValidationFailed.field("slug", "The slug has already been taken.")
            slug, suffix = base, 2
            while slug in taken:
                slug, suffix = f"{base}-{suffix}", suffix + 1
            values = values | {"slug": slug}
        return values

    async def default_for(self, conn: asyncpg.Connection, company_id: int) -> int:
        """The company's default organisation, created on first need (InvoiceFlow customers;
        concurrent first customers share the one the first of them made)."""
        found = await repo.default_organisation(conn, company_id)
        if found is None:
            await repo.insert_default_organisation(conn, company_id)
            found = await repo.default_organisation(conn, company_id)
        assert found is not None
        return found


class InvoicerService(ResourceService[CompanyFilter]):
    table = repo.INVOICERS
    what = "invoicer"
    permission = "invoicers.write"

    async def payment_details(self, invoicer_id: int) -> list[Row]:
        return await repo.payment_details_of(self.pool, invoicer_id)


class PaymentDetailService(ResourceService[CompanyFilter]):
    table = repo.PAYMENT_DETAILS
    what = "payment detail"
    permission = "payment_details.write"

    async def create_for(self, scope: Scope, invoicer: Row, values: dict[str, Any]) -> Row:
        return await self.create(
            scope, invoicer["company_id"], values | {"invoicer_id": invoicer["id"]}
        )

    async def after_write(self, conn: asyncpg.Connection, row: Row) -> None:
        if row.get("is_default"):
            await crud.clear_default(conn, self.table, "invoicer_id", row["invoicer_id"], row["id"])

    async def get_of(self, scope: Scope, invoicer_id: int, detail_id: int) -> Row:
        row = await self.get(scope, detail_id)
        if row["invoicer_id"] != invoicer_id:
            raise NotFound()
        return row
