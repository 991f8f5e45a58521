"""Idempotency-Key on POST (docs/api.md): the first answer is stored for 24 hours and replayed for
the same key and body; the same key with another body is 422; while the first request is
still running, a repeat is 409 (with Retry-After). Server errors are not stored, so a retry can
succeed: a request cut off by a database outage (a 503) releases its key once the database
answers again (retried for a few seconds); a key left claimed all the same is taken over by a
retry after repo.ABANDONED_AFTER_SECONDS. An answer that cannot be stored is still sent.

Replays run before the handler, so before its ability and scope checks: they are therefore
keyed by the caller's token (and user), and replayed only to the token whose request
produced them (and passed those checks then). Another token of the same user, whatever its
abilities, has its own keys. Nothing secret is stored: an answer carrying a one-time secret
(a generated password) marks what may be kept instead (`replay_without_secret`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from billing_service.platform.keys import POOL
from billing_service.platform.repositories import idempotency as repo
from shared.errors import (
    RETRY_AFTER_SECONDS,
    ApiError,
    BadRequest,
    Conflict,
    ValidationFailed,
    is_transient,
)
from shared.identity import IDENTITY
from shared.logging import get_logger
from shared.web import dumps, error_response, with_success, with_success_bytes

log = get_logger("billing.idempotency")

HEADER = "Idempotency-Key"
# How long the release or the store of a key is retried while the database is unreachable.
SETTLE_SECONDS = 10.0
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
        await _settle(lambda: repo.release(pool, caller, key))
        raise
    stored_body = response.get(STORED_BODY) or (
        response.body if isinstance(response, web.Response) else None
    )
    if response.status >= 500 or not isinstance(stored_body, bytes | bytearray):
        # Not replayable: let a retry run for real.
        await _settle(lambda: repo.release(pool, caller, key))
        return response
    body, content_type = bytes(stored_body), response.content_type
    await _settle(lambda: repo.store(pool, caller, key, response.status, body, content_type))
    return response


async def _settle(write: Callable[[], Awaitable[None]]) -> None:
    """The key's release or store, tried again while the database is unreachable (it may be
    restarting) for up to SETTLE_SECONDS; then given up (logged): the answer stands, and the
    key is abandoned (see the module's docstring)."""
    loop = asyncio.get_running_loop()
    deadline, pause = loop.time() + SETTLE_SECONDS, 0.25
    while True:
        try:
            await write()
            return
        except Exception as error:
            if not is_transient(error) or loop.time() + pause > deadline:
                log.warning("idempotency_key_unsettled", error=type(error).__name__)
                return
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)


async def _replay(stored: repo.Stored | None, request_hash: str) -> web.Response:
    if stored is None:  # expired between the claim and the look-up
        raise Conflict("Retry the request.")
    if stored.request_hash != request_hash:
        raise ValidationFailed.field(
            "Idempotency-Key", "This Idempotency-Key was used with another request."
        )
    if stored.status is None:
        raise Conflict(
            "A request with this Idempotency-Key is still in progress.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return web.Response(
        status=stored.status,
        # Answers stored before the envelope (docs/api.md) existed get it on the way out.
        body=with_success_bytes(stored.body, stored.status, stored.content_type),
        content_type=stored.content_type,
        headers={"Idempotent-Replayed": "true"},
    )
