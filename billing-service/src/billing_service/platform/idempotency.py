"""Idempotency-Key on POST (docs/api.md): the first answer is stored for 24 hours and replayed for
the same key and body; the same key with another body is 422; while the first request is
still running, a repeat is 409. Server errors are not stored, so a retry can succeed.

Replays run before the handler, so before its ability and scope checks: they are therefore
keyed by the caller's token (and user), and replayed only to the token whose request
produced them (and passed those checks then). Another token of the same user, whatever its
abilities, has its own keys. Nothing secret is stored: an answer carrying a one-time secret
(a generated password) marks what may be kept instead (`replay_without_secret`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from billing_service.platform.keys import POOL
from billing_service.platform.repositories import idempotency as repo
from shared.errors import ApiError, BadRequest, Conflict, ValidationFailed
from shared.identity import IDENTITY
from shared.web import dumps, error_response, with_success, with_success_bytes

HEADER = "Idempotency-Key"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STORED_BODY = web.ResponseKey("idempotency_stored_body", bytes)


def replay_without_secret(response: web.Response, payload: Any) -> web.Response:
    """The response carries a one-time secret: store and replay `payload` (the same answer
    without it) instead of the body."""
    response[STORED_BODY] = dumps(with_success(payload, response.status)).encode()
    return response


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or IDENTITY not in request:
        return await handler(request)
    if not 1 <= len(key) <= 255:
        raise BadRequest("The Idempotency-Key header must have 1 to 255 characters.")
    identity = request[IDENTITY]
    caller = repo.Caller(identity.user_id, identity.token_id or 0)
    body = await request.read()  # cached by aiohttp: the handler reads it again for free
    request_hash = hashlib.sha256(
        request.method.encode() + b" " + request.path_qs.encode() + b"\n" + body
    ).hexdigest()
    pool = request.app[POOL]
    if not await repo.claim(pool, caller, key, request_hash):
        return await _replay(await repo.find(pool, caller, key), request_hash)
    try:
        response = await handler(request)
    except ApiError as error:
        response = error_response(error)
    except BaseException:
        await repo.release(pool, caller, key)
        raise
    stored_body = response.get(STORED_BODY) or (
        response.body if isinstance(response, web.Response) else None
    )
    if response.status >= 500 or not isinstance(stored_body, bytes | bytearray):
        await repo.release(pool, caller, key)  # not replayable: let a retry run for real
        return response
    await repo.store(pool, caller, key, response.status, bytes(stored_body), response.content_type)
    return response


async def _replay(stored: repo.Stored | None, request_hash: str) -> web.Response:
    if stored is None:  # expired between the claim and the look-up
        raise Conflict("Retry the request.")
    if stored.request_hash != request_hash:
        raise ValidationFailed.field(
            "Idempotency-Key", "This Idempotency-Key was used with another request."
        )
    if stored.status is None:
        raise Conflict("A request with this Idempotency-Key is still in progress.")
    return web.Response(
        status=stored.status,
        # Answers stored before the envelope (docs/api.md) existed get it on the way out.
        body=with_success_bytes(stored.body, stored.status, stored.content_type),
        content_type=stored.content_type,
        headers={"Idempotent-Replayed": "true"},
    )
