"""Internal routes, reached only inside the service network (the gateway never proxies them)."""

from __future__ import annotations

import hmac

from aiohttp import web

from auth_service.handlers.schemas import IntrospectRequest
from auth_service.keys import SETTINGS, SIGNING_KEYS, TOKENS
from shared.errors import Unauthorized
from shared.validation import parse_body
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
    return json_response(request.app[SIGNING_KEYS].jwks())
