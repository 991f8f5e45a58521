"""Helpers every billing handler uses: the caller's scope, list parameters, answers."""

from __future__ import annotations

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
    action = DOCUMENT_OPERATIONS[operation][0]
    identity = identity_of(request)
    if not reads_without_ability(identity, kind, operation) and not any(
        identity.can(f"{resource}:{action}") for resource in DOCUMENT_RESOURCES
    ):
        raise Forbidden(f"This token lacks the 'invoices:{action}' or 'quotes:{action}' ability.")
    scope = await scope_for(request, None)
    if members_only:
        scope.require_member()
    return scope


def data(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"data": payload}, status=status, headers=headers)


def page_response(request: web.Request, page: Page) -> web.Response:
    return json_response(paginated(request, page))


def no_content() -> web.Response:
    return web.Response(status=204)
