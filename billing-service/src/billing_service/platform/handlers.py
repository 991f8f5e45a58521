"""Helpers every billing handler uses: the caller's scope, list parameters, answers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from billing_service.platform.keys import POOL
from billing_service.platform.permissions import DocumentAccess
from billing_service.platform.repositories import scope as scope_repo
from billing_service.platform.scope import Scope
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
    """For a handler on one record of the invoices table (of type `kind` when the route shows
    only one) whose route does not declare its access (routes declared as operations have it
    checked before the handler: permissions.DocumentAccess); the scope."""
    portal_reads = kind == "invoice" and operation == "read"
    DocumentAccess(operation, members_only=members_only, portal_reads=portal_reads).check(request)
    return await scope_for(request, None)


def data(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"data": payload}, status=status, headers=headers)


def page_response(request: web.Request, page: Page) -> web.Response:
    return json_response(paginated(request, page))


def no_content() -> web.Response:
    return web.Response(status=204)
