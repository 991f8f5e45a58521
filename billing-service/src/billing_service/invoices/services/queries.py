"""Reading the invoices table: pages of a list (offset or keyset cursor), one record in full."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing_service.companies.services.scoped import COUNT_CAP, named
from billing_service.invoices.repositories import listing
from billing_service.invoices.repositories import members as members_repo
from billing_service.invoices.repositories.detail import InvoiceDetail, load_detail
from billing_service.invoices.repositories.invoices import Invoice, ListedInvoice
from billing_service.invoices.repositories.listing import ListQuery, Sort
from billing_service.invoices.services.records import PREFIXES, InvoiceRecords
from billing_service.platform.permissions import document_resource, reads_without_ability
from billing_service.platform.repositories.crud import Row
from billing_service.platform.repositories.sql import Conditions
from billing_service.platform.scope import Scope
from shared.errors import BadRequest
from shared.pagination import PageParams, decode_cursor, encode_cursor


@dataclass(frozen=True)
class InvoicePage:
    items: list[ListedInvoice]
    total: int
    params: PageParams
    next_cursor: str | None
    total_capped: bool


class InvoiceQueries:
    def __init__(self, records: InvoiceRecords) -> None:
        self.records = records
        self.pool = records.pool

    async def find(
        self, db: Any, scope: Scope, invoice_id: int, operation: str, **options: Any
    ) -> Invoice:
        """InvoiceRecords.find, for services that read a record (documents)."""
        return await self.records.find(db, scope, invoice_id, operation, **options)

    async def detail(
        self, scope: Scope, invoice_id: int, *, kind: str | None = None
    ) -> InvoiceDetail:
        invoice = await self.records.find(self.pool, scope, invoice_id, "read", kind=kind)
        return await self.detail_of(self.pool, invoice, internal=not scope.is_client)

    async def detail_of(self, db: Any, invoice: Invoice, *, internal: bool = True) -> InvoiceDetail:
        return await load_detail(db, invoice, internal=internal)

    async def members(self, scope: Scope, invoice_id: int) -> list[Row]:
        invoice = await self.records.find(self.pool, scope, invoice_id, "read")
        return await members_repo.members(self.pool, invoice.id)

    async def list_page(self, scope: Scope, query: ListQuery) -> InvoicePage:
        await self._check_named_filters(scope, query)
        if query.company_id is not None:
            scope.company(query.company_id)  # a client-portal user names none
        types = readable_types(scope, query.type)
        where = self.records.visible(scope)
        needs_recipient = listing.filter_list(where, query, types, self.records.clock())
        count_where = Conditions(list(where.parts), list(where.params))
        sort = Sort.parse(query.sort)
        after = None
        if query.cursor is not None:
            if sort.sql_type is None:
                raise BadRequest(
                    "A cursor needs a sort by id, created_at, issue_date, total or label."
                )
            after = decode_cursor(query.cursor, sort.sql_type)
        params = query.params
        rows = await listing.page(
            self.pool, where, sort, after=after, limit=params.per_page, offset=params.offset
        )
        total, capped = await self._total(scope, query, types, count_where, needs_recipient)
        next_cursor = None
        if sort.sql_type is not None and len(rows) == params.per_page:
            last = rows[-1].invoice
            next_cursor = encode_cursor(getattr(last, sort.column), last.id)
        return InvoicePage(rows, total, params, next_cursor, capped)

    async def _check_named_filters(self, scope: Scope, query: ListQuery) -> None:
        """`?company_id=` and `?invoice_recipient_id=` name records: another tenant's is 403,
        an id that exists nowhere 422 (base.named). A client's list is bounded by its
        recipient whatever it names."""
        if scope.is_client:
            return
        if query.company_id is not None:
            await named(self.pool, scope, "companies", query.company_id, "company_id")
        if query.recipient_id is not None:
            await named(self.pool, scope, "recipients", query.recipient_id, "invoice_recipient_id")

    async def _total(
        self,
        scope: Scope,
        query: ListQuery,
        types: list[str] | None,
        where: Conditions,
        needs_recipient: bool,
    ) -> tuple[int, bool]:
        """Exact from the kept counts when only company, type and status filter the list;
        otherwise counted up to COUNT_CAP (meta.total_capped says when the cap was hit)."""
        if not scope.is_client and query.counted_exactly:
            companies = [query.company_id] if query.company_id is not None else scope.company_ids
            return await listing.counted(self.pool, companies, types, query.status), False
        total = await listing.count(self.pool, where, COUNT_CAP, needs_recipient=needs_recipient)
        return total, total >= COUNT_CAP


def readable_types(scope: Scope, requested: str | None) -> list[str] | None:
    """The record types a list may show (None: all). A type whose resource the token may not
    read never appears (no quote without `quotes:read`); asking for it is a 403."""
    if requested is not None:
        if not reads_without_ability(scope.identity, requested, "read"):
            scope.identity.require(f"{document_resource(requested)}:read")
        return [requested]
    types = [kind for kind in PREFIXES if scope.identity.can(f"{document_resource(kind)}:read")]
    return None if len(types) == len(PREFIXES) else types
