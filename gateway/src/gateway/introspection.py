"""Asks auth-service who a token belongs to; concurrent misses for one token share one call."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp

from shared.errors import ApiError, ServiceUnavailable, TokenExpired, Unauthorized
from shared.logging import get_logger
from shared.tokens import BearerToken

log = get_logger("gateway.introspection")


@dataclass(frozen=True)
class Introspected:
    """What the identity cache stores: `<user id>\\n<token id>\\n<identity JWT>`, or
    `!<error code>`. The user id comes first: the rate-limit script reads it from there."""

    blob: str
    ttl_ms: int

    @property
    def error(self) -> ApiError | None:
        return error_from_blob(self.blob) if self.blob.startswith("!") else None

    @property
    def user_id(self) -> str:
        return self.blob.partition("\n")[0]

    @property
    def token_id(self) -> int:
        return token_id_from_blob(self.blob)

    @property
    def identity_jwt(self) -> str:
        return identity_jwt_from_blob(self.blob)


def token_id_from_blob(blob: str) -> int:
    return int(blob.split("\n", 2)[1])


def identity_jwt_from_blob(blob: str) -> str:
    return blob.split("\n", 2)[2]


def error_from_blob(blob: str) -> ApiError:
    return TokenExpired() if blob == "!TOKEN_EXPIRED" else Unauthorized()


class Introspector:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        internal_secret: str,
        *,
        margin_seconds: int,
        negative_seconds: int,
    ) -> None:
        self._session = session
        self._url = url.rstrip("/") + "/internal/introspect"
        self._headers = {"X-Internal-Secret": internal_secret}
        self._margin_ms = margin_seconds * 1000
        self._negative_ms = negative_seconds * 1000
        self._inflight: dict[str, asyncio.Future[Introspected]] = {}
        self.calls = 0

    async def introspect(self, cache_key: str, token: BearerToken) -> Introspected:
        """Who the token's secret belongs to. Only the secret is sent, never the `<id>|` part:
        the answer is cached under the secret's hash, so it must not depend on the id a client
        put before it (the guard checks that id against the answer's token id)."""
        pending = self._inflight.get(cache_key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Introspected] = asyncio.get_running_loop().create_future()
        self._inflight[cache_key] = future
        try:
            result = await self._ask(token.secret)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must log it
            raise
        finally:
            del self._inflight[cache_key]

    async def _ask(self, secret: str) -> Introspected:
        self.calls += 1
        try:
            async with self._session.post(
                self._url, json={"token": secret}, headers=self._headers
            ) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            log.warning("introspection_failed", exc_info=True)
            raise ServiceUnavailable("Authentication is temporarily unavailable.") from None
        if response.status == 200:
            ttl_ms = int(body["exp"] * 1000 - time.time() * 1000) - self._margin_ms
            blob = f"{body['sub']}\n{body['token_id']}\n{body['identity_jwt']}"
            return Introspected(blob, max(ttl_ms, 1))
        if response.status == 401:
            code = body.get("error_code", "UNAUTHORIZED")
            # An expired token never becomes valid again; cache that answer longer.
            ttl = self._negative_ms * (10 if code == "TOKEN_EXPIRED" else 1)
            return Introspected(f"!{code}", ttl)
        log.warning("introspection_unexpected_status", status=response.status)
        raise ServiceUnavailable("Authentication is temporarily unavailable.")
