"""Access rules of a service's own callers, derived from its operation table: routes other
services call with the shared internal secret, and which requests need no identity JWT."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from pydantic import SecretStr

from shared.contract import Header, Operation
from shared.errors import Unauthorized
from shared.openapi import DOCUMENT_PATH

INTERNAL_SECRET = Header(
    "X-Internal-Secret", "The secret the services share (service-to-service calls only).", True
)


class _HoldsInternalSecret(Protocol):
    internal_secret: SecretStr


@dataclass(frozen=True)
class InternalSecret:
    """Another service of the platform: it proves itself with the shared internal secret
    (the gateway never proxies these routes), so no identity JWT is needed."""

    settings: web.AppKey[Any]  # the service's settings, which hold `internal_secret`
    public: bool = True

    def abilities(self) -> tuple[str, ...]:
        return ()

    def describe(self) -> str:
        return "Service-to-service: requires the `X-Internal-Secret` header."

    def check(self, request: web.Request) -> None:
        settings: _HoldsInternalSecret = request.app[self.settings]
        expected = settings.internal_secret.get_secret_value().encode()
        given = request.headers.get(INTERNAL_SECRET.name, "").encode()
        if not hmac.compare_digest(given, expected):
            raise Unauthorized()


def no_identity_needed(operations: Iterable[Operation]) -> Callable[[web.Request], bool]:
    """The identity middleware's public rule, from the table: the operations whose access is
    public (their own check runs instead), the service's OpenAPI document, and a method the
    path does not have (the router answers 405 with `Allow`, whoever asks)."""
    public = frozenset(
        (operation.method, operation.path) for operation in operations if operation.access.public
    ) | {("GET", DOCUMENT_PATH)}

    def rule(request: web.Request) -> bool:
        match_info = request.match_info
        if isinstance(match_info.http_exception, web.HTTPMethodNotAllowed):
            return True
        resource = match_info.route.resource
        return resource is not None and (request.method, resource.canonical) in public

    return rule
