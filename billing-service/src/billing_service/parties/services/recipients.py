"""Recipients (InvoiceFlow's customers, InvoisX's buyers): filed in an organisation, removed
with their client-portal logins, archived while their settled invoices still name them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import asyncpg

from billing_service.companies import repositories as companies_repo
from billing_service.companies.services.companies import PersonalTeams
from billing_service.companies.services.scoped import (
    delete_row,
    get_scoped,
    named,
    resolve_company,
)
from billing_service.events.services import EventLog
from billing_service.parties import repositories as repo
from billing_service.parties.schemas.recipients import RecipientFilter
from billing_service.parties.services.resources import OrganisationService, ResourceService
from billing_service.parties.views import InvoicedRecipientView
from billing_service.platform.auth_client import AuthClient
from billing_service.platform.permissions import DOCUMENT_TYPES, document_resource, require
from billing_service.platform.repositories import crud
from billing_service.platform.repositories.crud import Row
from billing_service.platform.repositories.sql import Conditions
from billing_service.platform.scope import Scope
from shared.errors import Conflict, ValidationFailed


class RecipientService(ResourceService[RecipientFilter]):
    table = repo.RECIPIENTS
    what = "recipient"
    permission = "recipients.write"

    def __init__(
        self,
        pool: asyncpg.Pool,
        personal: PersonalTeams,
        organisations: OrganisationService,
        users: AuthClient,
        events: EventLog,
    ) -> None:
        super().__init__(pool, personal)
        self._organisations = organisations
        self._users = users
        self._events = events

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
            logins = await companies_repo.contact_logins(conn, recipient_id=row["id"])
            await remove(conn, row)
            await self.announce(conn, "deleted", row)
            await self._users.delete_all(logins)

    async def _delete(self, conn: asyncpg.Connection, row: Row) -> None:
        await delete_row(conn, self.table, row["id"], self.what)

    async def _archive_or_delete(self, conn: asyncpg.Connection, row: Row) -> None:
        unpaid, running = await repo.open_billing(conn, row["id"])
        if unpaid or running:
            raise Conflict(_still_billed(unpaid, running))
        credit = await repo.held_credit(conn, row["id"])
        if credit:  # deleted, the customer's credit would be lost
            raise Conflict(
                f"The customer has credit available ({', '.join(credit)}): apply it to their "
                "invoices before deleting the customer."
            )
        if await repo.is_referenced(conn, row["id"]):
            await repo.archive(conn, row["id"])
        else:
            await self._delete(conn, row)

    async def create(self, scope: Scope, company_id: int | None, values: dict[str, Any]) -> Row:
        """Recipients belong to an organisation; without one (InvoiceFlow's customers), to the
        default organisation of the company named, else of the current company."""
        organisation_id = values.pop("organisation_id", None)
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
            await self.announce(conn, "created", row)
            return row

    async def create_many(
        self, conn: asyncpg.Connection, scope: Scope, company_id: int, rows: list[dict[str, Any]]
    ) -> list[Row]:
        """Customers of one company at once (an import), in the caller's transaction: each as
        `create` files one without an organisation (in the company's default organisation),
        each announced as `recipient.created`."""
        require(scope, company_id, self.permission)
        organisation_id = await self._organisations.default_for(conn, company_id)
        filed = [values | {"organisation_id": organisation_id} for values in rows]
        created = await crud.insert_many(conn, self.table, company_id, filed)
        await self._events.record_many(
            conn,
            company_id,
            "recipient.created",
            [
                (f"recipient:{row['id']}", InvoicedRecipientView.of(row | {"total_invoiced": 0}))
                for row in created
            ],
        )
        return created

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

    async def conditions(self, scope: Scope, query: RecipientFilter) -> Conditions:
        where = await super().conditions(scope, query)
        if query.organisation_id is not None:
            await named(self.pool, scope, "organisations", query.organisation_id, "organisation_id")
        return repo.recipient_conditions(where, query.organisation_id, query.search)

    async def shown(self, rows: list[Row]) -> list[Row]:
        return await _invoiced(self.pool, rows)

    async def announce(self, conn: asyncpg.Connection, verb: str, row: Row) -> None:
        """`recipient.<verb>`, carrying the recipient as /recipients shows it (a deleted one as
        it was)."""
        [shown] = await _invoiced(conn, [row])
        await self._events.record(
            conn,
            row["company_id"],
            f"recipient.{verb}",
            InvoicedRecipientView.of(shown),
            subject=f"recipient:{row['id']}",
        )

    async def recent_activity(self, scope: Scope, recipient_id: int) -> tuple[list[Row], list[Row]]:
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
        return invoices, payments


async def _invoiced(db: crud.Db, rows: list[Row]) -> list[Row]:
    """The rows with what each recipient has been invoiced (one query for them all)."""
    totals = await repo.total_invoiced(db, [row["id"] for row in rows])
    return [row | {"total_invoiced": totals.get(row["id"], Decimal(0))} for row in rows]


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
