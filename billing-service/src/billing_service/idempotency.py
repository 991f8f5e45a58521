"""Idempotency-Key on POST (API.md): the first answer is stored for 24 hours and replayed for
the same key and body; the same key with another body is 422; while the first request is
still running, a repeat is 409. Server errors are not stored, so a retry can succeed."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from aiohttp import web

from billing_service.keys import POOL
from billing_service.repositories import idempotency as repo
from shared.errors import ApiError, BadRequest, Conflict, ValidationFailed
from shared.identity import IDENTITY
from shared.web import error_response

HEADER = "Idempotency-Key"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or IDENTITY not in request:
        return await handler(request)
    if not 1 <= len(key) <= 255:
        raise BadRequest("The Idempotency-Key header must have 1 to 255 characters.")
    user_id = request[IDENTITY].user_id
    body = await request.read()  # cached by aiohttp: the handler reads it again for free
    request_hash = hashlib.sha256(
        request.method.encode() + b" " + request.path_qs.encode() + b"\n" + body
    ).hexdigest()
    pool = request.app[POOL]
    if not await repo.claim(pool, user_id, key, request_hash):
        return await _replay(await repo.find(pool, user_id, key), request_hash)
    try:
        response = await handler(request)
    except ApiError as error:
        response = error_response(error)
    except BaseException:
        await repo.release(pool, user_id, key)
        raise
    stored_body = response.body if isinstance(response, web.Response) else None
    if response.status >= 500 or not isinstance(stored_body, bytes | bytearray):
        await repo.release(pool, user_id, key)  # not replayable: let a retry run for real
        return response
    await repo.store(pool, user_id, key, response.status, bytes(stored_body), response.content_type)
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
        body=stored.body,
        content_type=stored.content_type,
        headers={"Idempotent-Replayed": "true"},
    )
