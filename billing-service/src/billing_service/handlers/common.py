"""Helpers every billing handler uses: the caller's scope, list parameters, answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from billing_service.keys import POOL
from billing_service.permissions import (
    DOCUMENT_OPERATIONS,
    DOCUMENT_RESOURCES,
    reads_without_ability,
)
from billing_service.repositories import scope as scope_repo
from billing_service.scope import Scope
from shared.errors import Forbidden
from shared.identity import identity_of, require_ability
from shared.pagination import Page, paginated
from shared.web import json_response

_SCOPE = web.RequestKey("scope", Scope)


async def scope_for(request: web.Request, ability: str | None) -> Scope:
    """Check the token's ability, then load (once per request) what the caller may see.
    Without an ability the service checks the one the record needs once it is loaded."""
    identity = require_ability(request, ability) if ability else identity_of(request)
    if _SCOPE in request:
        return request[_SCOPE]
    pool = request.app[POOL]
    if identity.kind == "client":
        scope = Scope(identity, {}, await scope_repo.client_link(pool, identity.user_id))
    else:
        scope = Scope(identity, await scope_repo.memberships(pool, identity.user_id))
    request[_SCOPE] = scope
    return scope


async def member_scope(request: web.Request, ability: str | None) -> Scope:
    """As scope_for, and refuse client-portal users (every write, most resources)."""
    scope = await scope_for(request, ability)
    scope.require_member()
    return scope


async def document_scope(
    request: web.Request,
    operation: str,
    *,
    members_only: bool = True,
    kind: str | None = None,
) -> Scope:
    """For a route on one record of the invoices table (of type `kind` when the route shows
    only one). Its type, known once the service has loaded it, decides between
    `invoices:<action>` and `quotes:<action>` (the service checks that one); a token with
    neither is refused here, before any work."""
    DocumentAccess(operation, kind).check(request)
    scope = await scope_for(request, None)
    if members_only:
        scope.require_member()
    return scope


@dataclass(frozen=True)
class DocumentAccess:
    """An operation's access (shared.contract.Access) on one record of the invoices table:
    `invoices:<action>` or `quotes:<action>`, as the record's type decides once the service
    has loaded it (and checks that one); a token with neither is refused before any work."""

    operation: str  # a key of DOCUMENT_OPERATIONS
    kind: str | None = None  # the one type the route shows, if only one
    public: bool = False

    @property
    def action(self) -> str:
        return DOCUMENT_OPERATIONS[self.operation][0]

    def abilities(self) -> tuple[str, ...]:
        return tuple(f"{resource}:{self.action}" for resource in DOCUMENT_RESOURCES)

    def describe(self) -> str:
        return (
            f"Requires the `invoices:{self.action}` ability for an invoice (recurring "
            f"invoices and templates included), `quotes:{self.action}` for a quote."
        )

    def check(self, request: web.Request) -> None:
        identity = identity_of(request)
        if not reads_without_ability(identity, self.kind, self.operation) and not any(
            identity.can(ability) for ability in self.abilities()
        ):
            raise Forbidden(
                f"This token lacks the 'invoices:{self.action}' or 'quotes:{self.action}' ability."
            )


def data(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"data": payload}, status=status, headers=headers)


def page_response(request: web.Request, page: Page) -> web.Response:
    return json_response(paginated(request, page))


def no_content() -> web.Response:
    return web.Response(status=204)
