"""Rate-limit policies of API.md, built per request from settings."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.routes import RouteSpec
from gateway.settings import Settings
from shared.ratelimit import Policy


@dataclass(frozen=True)
class Limits:
    settings: Settings

    def anonymous(self, client_ip: str) -> list[Policy]:
        s = self.settings
        return [
            Policy(
                "unauthenticated",
                f"rl:ip:{client_ip}",
                s.rate_limit_unauthenticated,
                s.rate_limit_unauthenticated_window,
            )
        ]

    def authenticated(self, spec: RouteSpec, match: dict[str, str]) -> list[Policy]:
        """Policies keyed by `{sub}`, which the Redis script fills with the caller's user id."""
        s = self.settings
        policies = [
            Policy("default", "rl:user:{sub}", s.rate_limit_default, s.rate_limit_default_window)
        ]
        for name in spec.extra_policies:
            if name == "send":
                key = f"rl:send:{match.get('invoice_id', '')}"
                policies.append(Policy("send", key, s.rate_limit_send, s.rate_limit_send_window))
            elif name == "regenerate":
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
