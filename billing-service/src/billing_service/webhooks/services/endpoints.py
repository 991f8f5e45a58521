"""Webhook endpoints and the event log, as the API manages and reads them.

Owners and admins only, reads included: an endpoint receives every record's data, and the
event log holds it. A signing secret is made here, shown once (create, rotate-secret) and
stored sealed for the endpoint's company (webhook_secrets); no answer reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from billing_service.companies.services.companies import PersonalTeams
from billing_service.companies.services.scoped import COUNT_CAP, get_scoped, named, resolve_company
from billing_service.events.services import EventLog
from billing_service.parties.schemas.resources import CompanyFilter
from billing_service.parties.services.resources import ResourceService
from billing_service.platform.permissions import MANAGERS, require
from billing_service.platform.repositories import crud
from billing_service.platform.repositories.crud import Row
from billing_service.platform.repositories.sql import Conditions
from billing_service.platform.scope import Scope
from billing_service.platform.settings import Settings
from billing_service.webhooks.http import UnsafeUrl, check_url
from billing_service.webhooks.repositories import endpoints as repo
from billing_service.webhooks.repositories.endpoints import Window
from billing_service.webhooks.schemas import DeliveryFilter, EventFilter
from billing_service.webhooks.secrets import SecretBox, new_secret
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.pagination import PageParams, decode_cursor, encode_cursor

# After a rotation the old secret keeps signing this long, for receivers to switch over.
SECRET_OVERLAP = timedelta(hours=24)
TEST_MESSAGE = "A test event: your endpoint receives and verifies webhooks."


@dataclass(frozen=True)
class KeysetPage:
    """A newest-first page; `next_cursor` continues it when the page is full."""

    items: list[Row]
    total: int
    params: PageParams
    next_cursor: str | None

    @property
    def total_capped(self) -> bool:
        return self.total >= COUNT_CAP


def keyset_window(params: PageParams, cursor: str | None) -> Window:
    """After the cursor's position, else the page's offset."""
    if cursor is not None:
        before, _ = decode_cursor(cursor, "bigint")
        return Window(params.per_page, before=before)
    return Window(params.per_page, offset=params.offset)


def next_cursor(rows: list[Row], params: PageParams, order: str) -> str | None:
    if len(rows) < params.per_page:
        return None
    last = rows[-1][order]
    return encode_cursor(last, last)


async def managed_companies(
    db: crud.Db, scope: Scope, company_id: int | None, permission: str
) -> list[int]:
    """The companies whose webhooks and events the caller may see: the one `company_id` names
    (403 unless their role there allows `permission`), else every company they manage. A
    member who manages none is refused rather than shown an empty list."""
    if company_id is not None:
        company = await named(db, scope, "companies", company_id, "company_id")
        require(scope, company, permission)
        return [company]
    managed = [company for company in scope.company_ids if scope.role_in(company) in MANAGERS]
    if not managed and scope.company_ids:
        require(scope, scope.company_ids[0], permission)
    return managed


class WebhookService(ResourceService[CompanyFilter]):
    table = repo.ENDPOINTS
    what = "webhook"
    permission = "webhooks.manage"

    def __init__(
        self,
        pool: asyncpg.Pool,
        personal: PersonalTeams,
        events: EventLog,
        box: SecretBox,
        settings: Settings,
    ) -> None:
        super().__init__(pool, personal)
        self.events = events
        self.box = box
        self.settings = settings

    async def conditions(self, scope: Scope, query: CompanyFilter) -> Conditions:
        companies = await managed_companies(self.pool, scope, query.company_id, self.permission)
        return crud.in_companies(companies)

    async def get(self, scope: Scope, row_id: int) -> Row:
        row = await get_scoped(self.pool, self.table, scope, row_id)
        require(scope, row["company_id"], self.permission)
        return row

    async def create_with_secret(
        self, scope: Scope, company_id: int | None, values: dict[str, Any]
    ) -> tuple[Row, str]:
        """The endpoint, and its secret (shown this once)."""
        secret = new_secret()
        async with self.pool.acquire() as conn, conn.transaction():
            company = await resolve_company(conn, scope, company_id, self.personal)
            require(scope, company, self.permission)
            values = await self.prepare(conn, scope, company, values, None)
            await self._check_room(conn, company)
            sealed = self.box.seal(secret, company)
            return await crud.insert(conn, self.table, company, values | {"secret": sealed}), secret

    async def prepare(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        company_id: int,
        values: dict[str, Any],
        current: Row | None,
    ) -> dict[str, Any]:
        if "url" in values:
            try:
                check_url(values["url"], self.settings)
            except UnsafeUrl as refused:
                raise ValidationFailed.field("url", f"The url {refused}.") from None
        if values.get("enabled") is True:  # re-enabled: its failures are behind it
            values = values | {"failing_since": None, "disabled_reason": None}
        return values

    async def _check_room(self, conn: asyncpg.Connection, company_id: int) -> None:
        """A company's endpoints are bounded: each event is one delivery per endpoint."""
        limit = self.settings.webhook_endpoints_per_company
        if await repo.endpoints_of_company(conn, company_id) >= limit:
            raise ValidationFailed.field(
                "url", f"A company has at most {limit} webhooks; delete one to add another."
            )

    async def rotate_secret(self, scope: Scope, webhook_id: int) -> tuple[Row, str]:
        secret = new_secret()
        async with self.pool.acquire() as conn, conn.transaction():
            current = await self._managed(conn, scope, webhook_id)
            sealed = self.box.seal(secret, current["company_id"])
            overlap_until = self.events.clock() + SECRET_OVERLAP
            return await repo.rotate_secret(conn, webhook_id, sealed, overlap_until), secret

    async def send_test(self, scope: Scope, webhook_id: int) -> tuple[str, int]:
        """A `webhook.test` event for this endpoint alone, due now: its id and delivery's."""
        async with self.pool.acquire() as conn, conn.transaction():
            endpoint = await self._managed(conn, scope, webhook_id)
            self._require_enabled(endpoint)
            data = {"webhook_id": webhook_id, "message": TEST_MESSAGE}
            event_id = await self.events.record(
                conn, endpoint["company_id"], "webhook.test", data, only_endpoint=webhook_id
            )
            delivery_id = await repo.delivery_for_event(conn, webhook_id, event_id)
            assert delivery_id is not None  # recorded in this transaction
            return event_id, delivery_id

    async def attempts(self, scope: Scope, webhook_id: int, query: DeliveryFilter) -> KeysetPage:
        await self.get(scope, webhook_id)
        where = repo.attempt_conditions(webhook_id, query.status)
        params = PageParams(page=query.page, per_page=query.per_page)
        rows = await repo.attempts(self.pool, where, keyset_window(params, query.cursor))
        total = await repo.count_attempts(self.pool, where, COUNT_CAP)
        return KeysetPage(rows, total, params, next_cursor(rows, params, "id"))

    async def redeliver(self, scope: Scope, webhook_id: int, delivery_id: int) -> None:
        """A finished delivery (succeeded or failed) is sent again now. A pending one is
        already on its way (perhaps in flight right now): 409 rather than a second copy."""
        async with self.pool.acquire() as conn, conn.transaction():
            endpoint = await self._managed(conn, scope, webhook_id)
            delivery = await repo.delivery_of(conn, webhook_id, delivery_id, lock=True)
            if delivery is None:
                raise NotFound()
            self._require_enabled(endpoint)
            if delivery.status == "pending":
                raise Conflict("The delivery is still pending: it is sent or retried already.")
            await repo.redeliver(conn, delivery_id, self.events.clock())

    async def _managed(self, conn: asyncpg.Connection, scope: Scope, webhook_id: int) -> Row:
        endpoint = await get_scoped(conn, self.table, scope, webhook_id, lock=True)
        require(scope, endpoint["company_id"], self.permission)
        return endpoint

    @staticmethod
    def _require_enabled(endpoint: Row) -> None:
        if not endpoint["enabled"]:
            raise Conflict("The webhook is disabled: enable it first.")


class EventQueries:
    """The event log, newest first (kept 30 days: the delivery loop prunes it)."""

    permission = "events.read"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def list(self, scope: Scope, query: EventFilter) -> KeysetPage:
        companies = await managed_companies(self.pool, scope, query.company_id, self.permission)
        since = None
        if query.since is not None:
            since = await repo.event_seq(self.pool, query.since, companies)
            if since is None:
                raise ValidationFailed.field("since", "No event of these companies has this id.")
        where = repo.event_conditions(companies, query.type, since)
        params = PageParams(page=query.page, per_page=query.per_page)
        rows = await repo.events(self.pool, where, keyset_window(params, query.cursor))
        total = await repo.count_events(self.pool, where, COUNT_CAP)
        return KeysetPage(rows, total, params, next_cursor(rows, params, "seq"))

    async def get(self, scope: Scope, event_id: str) -> Row:
        found = await repo.event(self.pool, event_id, scope.company_ids)
        if found is None:
            raise NotFound()
        require(scope, found["company_id"], self.permission)
        return found
