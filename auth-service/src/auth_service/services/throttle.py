"""Failed-login throttling: 5 failures per minute per e-mail and client IP (docs/api.md)."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as redis

from shared.errors import RateLimited
from shared.ids import unique_id
from shared.logging import get_logger
from shared.ratelimit import (
    SLIDING_WINDOW_LUA,
    Policy,
    decision_from_reply,
    script_arguments,
    script_record,
)

log = get_logger("auth.throttle")


@dataclass
class LoginThrottle:
    """Every attempt is recorded in the e-mail+IP window; a success clears the window, so
    only failures accumulate (Laravel's hit/clear). Redis down: logins are not blocked."""

    redis: redis.Redis
    limit: int
    window_seconds: int

    def _key(self, email: str, ip: str) -> str:
        return f"login:{email.lower()}|{ip}"

    async def attempt(self, email: str, ip: str) -> None:
        policy = Policy("failed-login", self._key(email, ip), self.limit, self.window_seconds)
        try:
            (reply,) = await self.redis.eval(  # a batch of one: one request's reply
                SLIDING_WINDOW_LUA,
                1,
                "",
                *script_arguments(unique_id(), [script_record([], [policy])]),
            )
        except redis.RedisError:
            log.warning("login_throttle_unavailable")
            return
        decision = decision_from_reply(reply)
        if decision is not None and not decision.admitted:
            raise RateLimited(headers=decision.headers())

    async def succeeded(self, email: str, ip: str) -> None:
        try:
            await self.redis.delete(self._key(email, ip))
        except redis.RedisError:
            log.warning("login_throttle_unavailable")
