"""Routes whose body may be larger than the app's `client_max_size` (1 MiB): a CSV import.

The request of such a route is handed on as a clone with the route's own limit, so that every
reader of the body (the idempotency fingerprint, then the handler) reads it under that limit,
and a body over it is refused (413) while it is received, never buffered beyond it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from shared.errors import PayloadTooLarge

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def body_limit_middleware(limits: Mapping[str, int]) -> Middleware:
    """`limits`: route path (as declared) -> the largest body it takes, in bytes."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        limit = limits.get(resource.canonical) if resource is not None else None
        if limit is None or request.method != "POST":
            return await handler(request)
        try:
            return await handler(request.clone(client_max_size=limit))
        except web.HTTPRequestEntityTooLarge:
            raise PayloadTooLarge(
                f"The request body is larger than {limit // (1024 * 1024)} MiB."
            ) from None

    return middleware
