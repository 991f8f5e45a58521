"""Rate-limit policies (docs/api.md, "Rate limits"), built per request from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache

from gateway.routes import RouteSpec
from gateway.settings import Settings
from shared.ratelimit import Policy


@dataclass(frozen=True)
class Limits:
    settings: Settings

    def anonymous(self, policy: str, client: str) -> list[Policy]:
        """A route's per-client policy for callers without a valid token. Made once per
        policy and client while they keep coming (the same list: not to be changed)."""
        return self._anonymous(policy, client)

    @cached_property
    def _anonymous(self) -> Callable[[str, str], list[Policy]]:
        @lru_cache(maxsize=4096)
        def policies(policy: str, client: str) -> list[Policy]:
            limit, window = self._anonymous_quotas[policy]
            return [Policy(policy, f"rl:ip:{policy}:{client}", limit, window)]

        return policies

    @cached_property
    def _anonymous_quotas(self) -> dict[str, tuple[int, int]]:
        s = self.settings
        return {
            "unauthenticated": (s.rate_limit_unauthenticated, s.rate_limit_unauthenticated_window),
            "login": (s.rate_limit_login, s.rate_limit_login_window),
            "public": (s.rate_limit_public, s.rate_limit_public_window),
            "files": (s.rate_limit_files, s.rate_limit_files_window),
        }

    def authenticated(self, spec: RouteSpec) -> list[Policy]:
        """Policies keyed by `{sub}`, which the Redis script fills with the caller's user id.
        Made once per route (the route table and the settings do not change)."""
        policies = self._authenticated.get(spec)
        if policies is None:
            policies = self._authenticated[spec] = self._policies_of(spec)
        return policies

    @cached_property
    def _authenticated(self) -> dict[RouteSpec, list[Policy]]:
        return {}

    def _policies_of(self, spec: RouteSpec) -> list[Policy]:
        s = self.settings
        policies = [
            Policy("default", "rl:user:{sub}", s.rate_limit_default, s.rate_limit_default_window)
        ]
        for name in spec.extra_policies:
            if name == "regenerate":
                policies.append(
                    Policy(
                        "regenerate",
                        "rl:regen:{sub}",
                        s.rate_limit_regenerate,
                        s.rate_limit_regenerate_window,
                    )
                )
            else:  # pragma: no cover - the route table is data checked by tests
                raise ValueError(f"unknown policy {name}")
        return policies
