"""Browsers on other origins (CORS), and requests the router cannot route at all.

Only the origins in `CORS_ORIGINS` may call the API from a page (none by default). The
gateway answers their preflights itself, and marks every answer to them, whichever route
gave it (proxied ones stream through no middleware: the headers are added as the answer is
prepared). The API authenticates with a bearer token, never a cookie: credentials are never
allowed, so `*` (any origin) cannot expose anything a cookie would carry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from aiohttp import hdrs, web
from pydantic import BeforeValidator
from pydantic_settings import NoDecode

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# What the API reads from a request beyond the CORS-safelisted headers.
REQUEST_HEADERS = (
    "Accept",
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Request-Id",
)
# What a page may read from an answer beyond the safelisted ones: the rate limits, the ETag
# to send back as If-Match, where a created record is, a file's name.
EXPOSED_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "ETag",
    "Location",
    "Content-Disposition",
    "X-Request-Id",
)
ANY_ORIGIN = "*"


def _split_origins(value: object) -> object:
    if isinstance(value, str):
        return tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
    return value


# CORS_ORIGINS=https://app.example.com,https://admin.example.com (or `*`: any origin).
Origins = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_split_origins)]


class Cors:
    def __init__(self, origins: tuple[str, ...], max_age: int) -> None:
        self._any = ANY_ORIGIN in origins
        self._origins = frozenset(origins) - {ANY_ORIGIN}
        self._max_age = str(max_age)

    @property
    def enabled(self) -> bool:
        return self._any or bool(self._origins)

    def allowed_origin(self, request: web.Request) -> str | None:
        """What Access-Control-Allow-Origin says to this request, if the origin may call."""
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None:
            return None
        if self._any:
            return ANY_ORIGIN
        return origin if origin in self._origins else None

    def is_preflight(self, request: web.Request) -> bool:
        return (
            request.method == hdrs.METH_OPTIONS
            and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
            and self.allowed_origin(request) is not None
        )

    def preflight(self, request: web.Request) -> web.Response:
        response = web.Response(status=204)
        response.headers.update(
            {
                hdrs.ACCESS_CONTROL_ALLOW_METHODS: ", ".join(METHODS),
                hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ", ".join(REQUEST_HEADERS),
                hdrs.ACCESS_CONTROL_MAX_AGE: self._max_age,
            }
        )
        return response

    async def mark(self, request: web.Request, response: web.StreamResponse) -> None:
        """on_response_prepare: every answer to an allowed origin says so."""
        if not self.enabled or hdrs.ORIGIN not in request.headers:
            return
        response.headers.add(hdrs.VARY, hdrs.ORIGIN)  # the answer differs by origin
        origin = self.allowed_origin(request)
        if origin is None:
            return
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
        if request.method != hdrs.METH_OPTIONS:
            response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = ", ".join(EXPOSED_HEADERS)


CORS = web.AppKey("cors", Cors)
UNROUTED: web.AppKey[Handler] = web.AppKey("unrouted")


@web.middleware
async def browsers_and_strays(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A preflight from an allowed origin is answered here (no route has OPTIONS); a path
    no route matches (one with a line feed, `/api/v1/products/%0A`, escapes the catch-all's
    `.*`) gets the gateway's own 404, with its envelope and rate-limit headers."""
    cors = request.app[CORS]
    if cors.is_preflight(request):
        return cors.preflight(request)
    if request.match_info.http_exception is not None:
        return await request.app[UNROUTED](request)
    return await handler(request)
