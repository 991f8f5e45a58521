"""CSV exports: one company's invoices (and credit notes), payments, customers or products,
optionally between two days of the kind's natural date (issue date, payment date, day
created), streamed from a server-side cursor so that memory stays flat however many rows."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import asyncpg

from billing_service.companies.services.companies import PersonalTeams
from billing_service.companies.services.scoped import resolve_company
from billing_service.exchange import repositories as repo
from billing_service.exchange.schemas import ExportQuery
from billing_service.platform.permissions import require
from billing_service.platform.scope import Scope

# Rows fetched from the cursor at a time, and written to the answer as one chunk.
BATCH_ROWS = 2000


class Exports:
    def __init__(self, pool: asyncpg.Pool, personal: PersonalTeams) -> None:
        self.pool = pool
        self.personal = personal

    async def company(self, scope: Scope, company_id: int | None) -> int:
        """The company exported (the one named, else the current one); owners and admins."""
        async with self.pool.acquire() as conn, conn.transaction():
            company = await resolve_company(conn, scope, company_id, self.personal)
        require(scope, company, "records.export")
        return company

    def rows(
        self, kind: str, company_id: int, query: ExportQuery
    ) -> AbstractAsyncContextManager[repo.ExportRows]:
        """The export's header and rows, read while the context is open."""
        return repo.export_rows(
            self.pool, kind, company_id, query.date_from, query.date_to, BATCH_ROWS
        )
