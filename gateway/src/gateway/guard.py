"""Authentication and rate limiting of one request, in one Redis round trip when cached.

The Redis script reads the cached identity for the token and applies the caller's policies
atomically. A cache miss costs one introspection and a second script call that stores the
identity and applies the policies. If Redis is unreachable, the guard keeps serving with a
per-process limiter and introspects every request (so revocation stays immediate), or
refuses with 503 when configured to fail closed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter
from redis.exceptions import RedisError

from gateway.batcher import ScriptBatcher
from gateway.introspection import (
    Introspector,
    error_from_blob,
    identity_jwt_from_blob,
    token_id_from_blob,
)
from shared.errors import ApiError, ServiceUnavailable, Unauthorized
from shared.logging import get_logger
from shared.ratelimit import (
    Decision,
    LocalSlidingWindow,
    Policy,
    decision_from_reply,
    script_record,
)
from shared.tokens import BearerToken

log = get_logger("gateway.guard")


@dataclass(frozen=True)
class Verdict:
    decision: Decision | None
    identity_jwt: str | None = None
    error: ApiError | None = None


class Guard:
    def __init__(
        self,
        batcher: ScriptBatcher,
        introspector: Introspector,
        *,
        cache_prefix: str,
        fail_closed: bool,
        retry_after_failure: float,
        registry: CollectorRegistry,
    ) -> None:
        self._batcher = batcher
        self._introspector = introspector
        self._cache_prefix = cache_prefix
        self._fail_closed = fail_closed
        self._retry_after_failure = retry_after_failure
        self._redis_down_until = 0.0
        self._local = LocalSlidingWindow()
        self._fallbacks = Counter(
            "gateway_redis_fallback_total", "Requests limited without Redis", registry=registry
        )
        self._introspections = Counter(
            "gateway_introspections_total", "Identity cache misses", registry=registry
        )

    async def anonymous(self, policies: list[Policy], error: ApiError | None = None) -> Verdict:
        try:
            reply = await self._script("", script_record([], policies))
            return Verdict(decision_from_reply(reply), error=error)
        except RedisError:
            if self._fail_closed:
                raise ServiceUnavailable("Rate limiting is unavailable.") from None
            self._fallbacks.inc()
            return Verdict(self._local.check(policies), error=error)

    async def authenticated(
        self, token: BearerToken, policies: list[Policy], anon: list[Policy]
    ) -> Verdict:
        key = token.cache_key(self._cache_prefix)
        try:
            reply = await self._script(key, script_record(policies, anon))
            if reply[0] == b"miss":
                self._introspections.inc()
                found = await self._introspector.introspect(key, token)
                record = script_record(policies, anon, found.blob, found.ttl_ms)
                # Its arguments carry the identity just fetched: not kept once packed.
                reply = await self._script(key, record, repeats=False)
        except RedisError:
            return await self._without_redis(key, token, policies, anon)
        state, blob = reply[0], reply[1].decode()
        decision = decision_from_reply(reply)
        if state == b"limited":  # refused before introspecting: the anonymous limit is used up
            return Verdict(decision, error=Unauthorized())
        if state == b"denied":
            return Verdict(decision, error=error_from_blob(blob))
        if state != b"ok":  # pragma: no cover - the script answers ok, denied, limited or miss
            raise ServiceUnavailable()
        if not token.matches(token_id_from_blob(blob)):
            return Verdict(decision, error=Unauthorized())  # Sanctum: the id must be the token's
        return Verdict(decision, identity_jwt=identity_jwt_from_blob(blob))

    async def _script(
        self, key: str, record: list[str | int], *, repeats: bool = True
    ) -> list[bytes]:
        if time.monotonic() < self._redis_down_until:
            raise RedisError("redis marked down")
        try:
            reply: list[bytes] = await self._batcher(key, record, repeats=repeats)
            return reply
        except RedisError:
            if time.monotonic() >= self._redis_down_until:
                log.warning("redis_unavailable", fail_closed=self._fail_closed)
            # Skip Redis for a moment instead of paying a connect timeout on every request.
            self._redis_down_until = time.monotonic() + self._retry_after_failure
            raise

    async def _without_redis(
        self, key: str, token: BearerToken, policies: list[Policy], anon: list[Policy]
    ) -> Verdict:
        if self._fail_closed:
            raise ServiceUnavailable("Rate limiting is unavailable.") from None
        self._fallbacks.inc()
        found = await self._introspector.introspect(key, token)
        if found.error is not None:
            return Verdict(self._local.check(anon), error=found.error)
        if not token.matches(found.token_id):
            return Verdict(self._local.check(anon), error=Unauthorized())
        local = [
            Policy(p.name, p.key.replace("{sub}", found.user_id), p.limit, p.window)
            for p in policies
        ]
        return Verdict(self._local.check(local), identity_jwt=found.identity_jwt)
