"""Internal routes, reached only inside the service network (the gateway never proxies them)."""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from auth_service.handlers.schemas import InternalUserCreate, IntrospectRequest
from auth_service.keys import ACCOUNTS, SETTINGS, SIGNING_KEYS, TOKENS
from auth_service.repositories.users import User
from shared.errors import BadRequest, NotFound, Unauthorized
from shared.validation import ascii_int, parse_body, path_id
from shared.web import json_response

INTERNAL_SECRET_HEADER = "X-Internal-Secret"


def require_internal_secret(request: web.Request) -> None:
    expected = request.app[SETTINGS].internal_secret.get_secret_value()
    given = request.headers.get(INTERNAL_SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized()


async def introspect(request: web.Request) -> web.Response:
    """Token -> short-lived identity JWT. 401 UNAUTHORIZED / TOKEN_EXPIRED when refused."""
    require_internal_secret(request)
    body = await parse_body(request, IntrospectRequest)
    result = await request.app[TOKENS].introspect(body.token)
    return json_response(
        {
            "sub": result.user_id,
            "token_id": result.token_id,
            "kind": result.kind,
            "abilities": result.abilities,
            "identity_jwt": result.identity_jwt,
            "exp": result.exp,
        }
    )


async def jwks(request: web.Request) -> web.Response:
    # A JWKS (RFC 7517): a format of its own, read by JWT libraries, so no envelope.
    return json_response(request.app[SIGNING_KEYS].jwks(), envelope=False)


def _user_view(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "first_name": user.first_name,
        "kind": user.kind,
    }


async def create_user(request: web.Request) -> web.Response:
    """Billing invites client-portal users through this. Without a password one is generated
    and returned once, for the inviting member to pass on."""
    require_internal_secret(request)
    body = await parse_body(request, InternalUserCreate)
    password = body.password or secrets.token_urlsafe(12)
    user = await request.app[ACCOUNTS].create_user(
        email=body.email, password=password, name=body.name, kind=body.kind
    )
    answer = _user_view(user)
    if body.password is None:
        answer["password"] = password
    return json_response({"data": answer}, status=201)


async def delete_user(request: web.Request) -> web.Response:
    """Billing undoes a client invitation it could not complete; the user's tokens are
    revoked at every gateway with it. 404 when there is no such user."""
    require_internal_secret(request)
    if not await request.app[TOKENS].delete_user(path_id(request, "user_id")):
        raise NotFound("No such user.")
    return web.Response(status=204)


async def find_users(request: web.Request) -> web.Response:
    """`?email=` (one) or `?ids=1,2,3` (several): who they are, never secrets."""
    require_internal_secret(request)
    accounts = request.app[ACCOUNTS]
    if "email" in request.query:
        user = await accounts.by_email(request.query["email"])
        if user is None:
            raise NotFound("No user with this e-mail.")
        return json_response({"data": [_user_view(user)]})
    raw_ids = [part for part in request.query.get("ids", "").split(",") if part]
    ids = [ascii_int(part, max_digits=18) for part in raw_ids[:501]]
    if not ids or len(ids) > 500 or None in ids:
        raise BadRequest("Give ?email= or ?ids= with up to 500 numeric ids.")
    users = await accounts.by_ids([user_id for user_id in ids if user_id is not None])
    return json_response({"data": [_user_view(user) for user in users]})
