"""Internal routes, reached only inside the service network (the gateway never proxies them);
the caller's internal secret is checked before these run (routes.py)."""

from __future__ import annotations

from aiohttp import web

from auth_service.keys import ACCOUNTS, SIGNING_KEYS, TOKENS
from auth_service.schemas import InternalUserCreate, IntrospectRequest, UserLookup
from auth_service.views import AccountView, IntrospectionView, InvitedAccountView, JwksView
from shared.contract import body_of, query_of
from shared.errors import BadRequest, NotFound
from shared.validation import ascii_int, path_id
from shared.web import json_response

MAX_LOOKUP_IDS = 500


async def introspect(request: web.Request) -> web.Response:
    """Token -> short-lived identity JWT. 401 UNAUTHORIZED / TOKEN_EXPIRED when refused."""
    body = await body_of(request, IntrospectRequest)
    result = await request.app[TOKENS].introspect(body.token)
    view = IntrospectionView(
        sub=result.user_id,
        token_id=result.token_id,
        kind=result.kind,
        abilities=result.abilities,
        identity_jwt=result.identity_jwt,
        exp=result.exp,
    )
    return json_response(view)


async def jwks(request: web.Request) -> web.Response:
    # A JWKS (RFC 7517): a format of its own, read by JWT libraries, so no envelope.
    view = JwksView(keys=request.app[SIGNING_KEYS].jwks()["keys"])
    return json_response(view, envelope=False)


async def create_user(request: web.Request) -> web.Response:
    """Billing invites client-portal users through this. Without a password one is generated
    and returned once, for the inviting member to pass on."""
    body = await body_of(request, InternalUserCreate)
    user, generated = await request.app[ACCOUNTS].register(
        email=body.email, name=body.name, kind=body.kind, password=body.password
    )
    account = AccountView.of(user)
    if generated is not None:
        account = InvitedAccountView(**account.model_dump(), password=generated)
    return json_response({"data": account}, status=201)


async def delete_user(request: web.Request) -> web.Response:
    """Billing undoes a client invitation it could not complete; the user's tokens are
    revoked at every gateway with it. 404 when there is no such user."""
    if not await request.app[TOKENS].delete_user(path_id(request, "user_id")):
        raise NotFound("No such user.")
    return web.Response(status=204)


async def find_users(request: web.Request) -> web.Response:
    """`?email=` (one) or `?ids=1,2,3` (several): who they are, never secrets."""
    lookup = query_of(request, UserLookup)
    accounts = request.app[ACCOUNTS]
    if lookup.email is not None:
        user = await accounts.by_email(lookup.email)
        if user is None:
            raise NotFound("No user with this e-mail.")
        return json_response({"data": [AccountView.of(user)]})
    ids = _user_ids(lookup.ids or "")
    return json_response({"data": [AccountView.of(user) for user in await accounts.by_ids(ids)]})


def _user_ids(listed: str) -> list[int]:
    """`1,2,3`: up to MAX_LOOKUP_IDS ids, each a number."""
    parts = [part for part in listed.split(",") if part]
    ids = [ascii_int(part, max_digits=18) for part in parts[: MAX_LOOKUP_IDS + 1]]
    if not ids or len(ids) > MAX_LOOKUP_IDS or None in ids:
        raise BadRequest(f"Give ?email= or ?ids= with up to {MAX_LOOKUP_IDS} numeric ids.")
    return [user_id for user_id in ids if user_id is not None]
