"""Organisations, invoicers and their payment details, recipients, products."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import asyncpg

from billing_service.auth_client import AuthClient, User
from billing_service.money import format_money
from billing_service.permissions import DOCUMENT_TYPES, document_resource, require
from billing_service.repositories import crud
from billing_service.repositories import resources as repo
from billing_service.repositories.crud import Row, Table
from billing_service.repositories.sql import Conditions
from billing_service.scope import Scope
from billing_service.services.base import (
    company_conditions,
    delete_row,
    delete_unreferenced,
    get_scoped,
    named,
    resolve_company,
    scoped_page,
)
from billing_service.services.companies import PersonalTeams, slugify
from billing_service.services.references import NOUNS
from shared.errors import ApiError, Conflict, NotFound, ValidationFailed
from shared.logging import get_logger
from shared.pagination import Page, PageParams

log = get_logger("billing.resources")


class ResourceService:
    """CRUD over one company-owned table, scoped to the caller's companies."""

    table: Table
    what = "record"
    permission: str  # the role-matrix entry its writes need (billing_service.permissions)

    def __init__(self, pool: asyncpg.Pool, personal: PersonalTeams) -> None:
        self.pool = pool
        self.personal = personal  # a create without a company may make the member's team

    async def list(self, scope: Scope, params: PageParams, where: Conditions) -> Page:
        return await scoped_page(self.pool, self.table, where, params)

    async def get(self, scope: Scope, row_id: int) -> Row:
        return await get_scoped(self.pool, self.table, scope, row_id)

    async def filters(self, scope: Scope, company_id: int | None) -> Conditions:
        """A list's conditions: the caller's companies, or the one `?company_id=` names."""
        return await company_conditions(self.pool, scope, company_id)

    async def named(self, scope: Scope, table: str, row_id: int, field: str) -> int:
        """The company of a record a query names (403 another tenant's, 422 nobody's)."""
        return await named(self.pool, scope, table, row_id, field)

    async def create(self, scope: Scope, company_id: int | None, values: dict[str, Any]) -> Row:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                company = await resolve_company(conn, scope, company_id, self.personal)
                require(scope, company, self.permission)
                values = await self.prepare(conn, scope, company, values, None)
                row = await crud.insert(conn, self.table, company, values)
                await self.after_write(conn, row)
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


class OrganisationService(ResourceService):
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


class InvoicerService(ResourceService):
    table = repo.INVOICERS
    what = "invoicer"
    permission = "invoicers.write"

    async def payment_details(self, invoicer_id: int) -> list[Row]:
        return await repo.payment_details_of(self.pool, invoicer_id)


class PaymentDetailService(ResourceService):
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


class RecipientService(ResourceService):
    table = repo.RECIPIENTS
    what = "recipient"
    permission = "recipients.write"

    def __init__(
        self,
        pool: asyncpg.Pool,
        personal: PersonalTeams,
        organisations: OrganisationService,
        users: AuthClient,
    ) -> None:
        super().__init__(pool, personal)
        self._organisations = organisations
        self._users = users

    async def delete(self, scope: Scope, row_id: int) -> None:
        """InvoiceMee's rule: 409 while any invoice names the recipient."""
        await self._remove(scope, row_id, self._delete)

    async def archive(self, scope: Scope, row_id: int) -> None:
        """InvoiceFlow's DELETE /customers/{id}: 409 while the customer owes anything (or a
        recurring invoice still bills it); else it goes. Named by no invoice it is deleted;
        named by settled ones it is archived: found by no list or lookup, used on no new
        invoice, still named (and shown) by its invoices."""
        await self._remove(scope, row_id, self._archive_or_delete)

    async def _remove(
        self,
        scope: Scope,
        row_id: int,
        remove: Callable[[asyncpg.Connection, Row], Awaitable[None]],
    ) -> None:
        """The recipient's client-portal logins go with it: deleted in auth-service before the
        removal commits (if that fails, nothing is removed), so none is left working."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await get_scoped(conn, self.table, scope, row_id, lock=True)
            require(scope, row["company_id"], self.permission)
            logins = await repo.contact_logins(conn, recipient_id=row["id"])
            await remove(conn, row)
            await self._users.delete_all(logins)

    async def _delete(self, conn: asyncpg.Connection, row: Row) -> None:
        await delete_row(conn, self.table, row["id"], self.what)

    async def _archive_or_delete(self, conn: asyncpg.Connection, row: Row) -> None:
        unpaid, running = await repo.open_billing(conn, row["id"])
        if unpaid or running:
            raise Conflict(_still_billed(unpaid, running))
        if await repo.is_referenced(conn, row["id"]):
            await repo.archive(conn, row["id"])
        else:
            await self._delete(conn, row)

    async def create_in_organisation(
        self,
        scope: Scope,
        organisation_id: int | None,
        values: dict[str, Any],
        *,
        company_id: int | None = None,
    ) -> Row:
        """Recipients belong to an organisation; without one (InvoiceFlow's customers), to the
        default organisation of the company named, else of the current company."""
        async with self.pool.acquire() as conn, conn.transaction():
            if organisation_id is None:
                company = await resolve_company(conn, scope, company_id, self.personal)
                require(scope, company, self.permission)
                organisation_id = await self._organisations.default_for(conn, company)
            else:
                company = await self._organisation_company(conn, scope, organisation_id)
                require(scope, company, self.permission)
                if company_id is not None and company_id != company:
                    raise ValidationFailed.field(
                        "company_id", "The organisation belongs to another company."
                    )
            row = await crud.insert(
                conn, self.table, company, values | {"organisation_id": organisation_id}
            )
            await self.after_write(conn, row)
            return row

    async def prepare(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        company_id: int,
        values: dict[str, Any],
        current: Row | None,
    ) -> dict[str, Any]:
        if "organisation_id" in values:
            moved_to = await self._organisation_company(conn, scope, values["organisation_id"])
            if moved_to != company_id:
                raise ValidationFailed.field(
                    "organisation_id", "The organisation must belong to the same company."
                )
        return values

    async def _organisation_company(
        self, conn: asyncpg.Connection, scope: Scope, organisation_id: int
    ) -> int:
        return await named(conn, scope, "organisations", organisation_id, "organisation_id")

    async def after_write(self, conn: asyncpg.Connection, row: Row) -> None:
        if row.get("is_default"):
            await crud.clear_default(
                conn, self.table, "organisation_id", row["organisation_id"], row["id"]
            )

    async def recent_activity(self, scope: Scope, recipient_id: int) -> dict[str, Any]:
        """The customer's latest invoices and payments, as far as the token may read them
        (`recipients:read` alone shows neither)."""
        identity = scope.identity
        types = [kind for kind in DOCUMENT_TYPES if identity.can(f"{document_resource(kind)}:read")]
        invoices = await repo.recent_invoices(self.pool, recipient_id, types)
        payments = (
            await repo.recent_payments(self.pool, recipient_id)
            if identity.can("invoices:read")
            else []
        )
        return {
            "recent_invoices": [
                {
                    "id": row["id"],
                    "invoice_number": row["label"],
                    "type": row["type"],
                    "status": row["status"],
                    "currency": row["currency"],
                    "total": format_money(row["total"], row["currency"]),
                    "balance_due": format_money(row["total"] - row["amount_paid"], row["currency"]),
                    "issue_date": row["scheduled_date"],
                    "due_date": row["due_date"],
                }
                for row in invoices
            ],
            "recent_payments": [
                {
                    "id": row["id"],
                    "invoice_id": row["invoice_id"],
                    "invoice_number": row["label"],
                    "amount": format_money(row["amount"], row["currency"]),
                    "paid_date": row["paid_date"],
                    "reference": row["reference"],
                    "payment_method": row["payment_method"],
                }
                for row in payments
            ],
        }

    async def with_totals(self, rows: list[Row]) -> list[Row]:
        totals = await repo.total_invoiced(self.pool, [row["id"] for row in rows])
        return [row | {"total_invoiced": totals.get(row["id"], Decimal(0))} for row in rows]


class ProductService(ResourceService):
    table = repo.PRODUCTS
    what = "product"
    permission = "products.write"

    async def create(self, scope: Scope, company_id: int | None, values: dict[str, Any]) -> Row:
        stock = values.pop("stock_quantity", None)
        if values.get("type", "service") == "service" and stock is not None:
            raise ValidationFailed.field("stock_quantity", "Services have no stock.")
        async with self.pool.acquire() as conn, conn.transaction():
            company = await resolve_company(conn, scope, company_id, self.personal)
            require(scope, company, self.permission)
            row = await crud.insert(conn, self.table, company, values)
            if row["type"] == "product":
                quantity = await repo.initial_stock(conn, row["id"], stock or 0, scope.user_id)
                row = row | {"stock_quantity": quantity}
            return row

    async def prepare(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        company_id: int,
        values: dict[str, Any],
        current: Row | None,
    ) -> dict[str, Any]:
        if current is not None and values.get("type", current["type"]) != current["type"]:
            raise ValidationFailed.field("type", "The type of a product cannot be changed.")
        return values

    async def adjust_stock(
        self, scope: Scope, product_id: int, adjustment: Decimal, reason: str | None
    ) -> Row:
        async with self.pool.acquire() as conn, conn.transaction():
            product = await get_scoped(conn, self.table, scope, product_id, lock=True)
            require(scope, product["company_id"], self.permission)
            if product["type"] != "product" or product["stock_quantity"] is None:
                raise ValidationFailed.field("adjustment", "Services have no stock to adjust.")
            if product["stock_quantity"] + adjustment < 0:
                raise ValidationFailed.field(
                    "adjustment",
                    "The stock cannot go below zero "
                    f"(in stock: {product['stock_quantity'].normalize()}).",
                )
            quantity = await repo.adjust_stock(conn, product_id, adjustment, reason, scope.user_id)
            return product | {"stock_quantity": quantity}

    async def movements(self, product_id: int) -> list[Row]:
        return await repo.recent_movements(self.pool, product_id)

    async def search_filters(
        self,
        scope: Scope,
        company_id: int | None,
        search: str | None,
        type_: str | None,
        active: bool | None,
    ) -> Conditions:
        where = await self.filters(scope, company_id)
        if search:
            pattern = (
                "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            where.add("(name ILIKE {0} OR sku ILIKE {0})", pattern)
        if type_:
            where.add("type = {}", type_)
        if active is not None:
            where.add("active = {}", active)
        return where


def _still_billed(unpaid: int, running: int) -> str:
    owed = []
    if unpaid:
        owed.append(
            f"{unpaid} unpaid invoice{'s' if unpaid != 1 else ''} or open quote{'s' if unpaid != 1 else ''}"
        )
    if running:
        owed.append(f"{running} running recurring invoice{'s' if running != 1 else ''}")
    return (
        f"The customer has {' and '.join(owed)}: "
        "settle, cancel or delete them before deleting the customer."
    )


class ContactService:
    """Client-portal users of a recipient: accounts of kind `client` in auth-service that see
    only this recipient's non-draft invoices and quotes."""

    def __init__(self, pool: asyncpg.Pool, recipients: RecipientService, users: AuthClient) -> None:
        self._pool = pool
        self._recipients = recipients
        self._users = users

    async def list(self, scope: Scope, recipient_id: int) -> list[Row]:
        recipient = await self._recipients.get(scope, recipient_id)
        return await repo.contacts(self._pool, recipient["id"])

    async def invite(
        self, scope: Scope, recipient_id: int, email: str, name: str, password: str | None
    ) -> tuple[Row, str | None]:
        """Create the client login in auth-service and link it to the recipient.

        The recipient row is locked first: a concurrent delete waits for the invitation to
        finish (and then removes the contact and its login with the recipient) instead of
        removing the recipient between the login's creation and the link. If the link still
        fails once the login exists, the login is deleted again, so no working login is left
        pointing at nothing.
        """
        user: User | None = None
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                recipient = await get_scoped(conn, repo.RECIPIENTS, scope, recipient_id, lock=True)
                require(scope, recipient["company_id"], "contacts.manage")
                user = await self._users.create_client(email, name, password)
                contact = await repo.insert_contact(
                    conn, user.id, recipient["id"], recipient["company_id"], user.email, user.name
                )
        except BaseException as error:
            if user is not None:
                await self._undo_login(user)
            if isinstance(error, asyncpg.ForeignKeyViolationError):
                raise NotFound() from None  # the recipient went away all the same
            raise
        return contact, user.password

    async def _undo_login(self, user: User) -> None:
        try:
            await self._users.delete(user.id)
        except ApiError:
            # Left behind: a login linked to no recipient (it sees nothing, but it exists).
            log.error("client_login_orphaned", user_id=user.id)
        else:
            log.warning("client_login_undone", user_id=user.id)
