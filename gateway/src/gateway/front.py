"""What every request is checked for before its route's handler runs: a canonical path, and
the client address its rate limits and the backends' X-Forwarded-For use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from aiohttp import web

from gateway.keys import CLIENTS
from shared.errors import BadRequest

CLIENT = web.RequestKey("client", str)  # the address rate limits and X-Forwarded-For use

_DOT_SEGMENTS = frozenset({".", ".."})
# An encoded slash or backslash makes one segment here and two in a backend that decodes first.
_SMUGGLED_SEPARATORS = ("%2f", "%5c", "\\")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def refuse_non_canonical(raw_path: str) -> None:
    """A path the gateway routes one way and a backend resolves another (`/files/../metrics`,
    `/api/v1/x/%2e%2e/invoices/1/send`) would skip the route's limit or reach an internal
    endpoint: such paths are refused, not normalised."""
    path = raw_path.partition("?")[0]
    if path.startswith("/") and "%" not in path and "\\" not in path and "/." not in path:
        return  # nothing encoded and no segment that starts with a dot: canonical
    if any(separator in path.lower() for separator in _SMUGGLED_SEPARATORS):
        raise BadRequest("The path must not contain encoded slashes or backslashes.")
    if any(unquote(segment) in _DOT_SEGMENTS for segment in path.split("/")):
        raise BadRequest("The path must not contain '.' or '..' segments.")


def check_front(request: web.Request) -> None:
    """The front door's checks (any route's, before its limits): the path, then the client."""
    refuse_non_canonical(request.raw_path)
    forwarded_for = request.headers.getall("X-Forwarded-For", ())
    request[CLIENT] = request.app[CLIENTS].client_of(request.remote, forwarded_for)


@web.middleware
async def front_door(request: web.Request, handler: Handler) -> web.StreamResponse:
    check_front(request)
    return await handler(request)
