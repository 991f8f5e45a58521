"""Request handling: authenticate and limit (guard), then proxy or answer locally."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache

from aiohttp import web

from gateway.front import CLIENT, check_front
from gateway.guard import Verdict
from gateway.keys import GUARD, LIMITS, PROXY
from gateway.reference import page
from gateway.routes import RouteSpec, upstream_target
from shared.errors import ApiError, MethodNotAllowed, NotFound, RateLimited, Unauthorized
from shared.tokens import parse_token
from shared.web import REQUEST_CONTEXT

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# What the gateway answers itself, by route.
LOCAL_ANSWERS: dict[str, Handler] = {
    page.DOCUMENT_ROUTE: page.serve_document,
    page.PAGE_ROUTE: page.serve_page,
    page.ASSET_ROUTE: page.serve_asset,
}


# A token, parsed and its secret hashed once while its holder keeps calling (a bounded
# table): the same Authorization header comes with every request of a client.
_parsed_token = lru_cache(maxsize=4096)(parse_token)


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _verdict(request: web.Request, spec: RouteSpec | None) -> Verdict:
    guard, limits = request.app[GUARD], request.app[LIMITS]
    policy = spec.anonymous_policy if spec is not None else "unauthenticated"
    anonymous = limits.anonymous(policy, request[CLIENT])
    if spec is None or not spec.authenticated:
        return await guard.anonymous(anonymous)
    raw = _bearer(request)
    token = _parsed_token(raw) if raw else None
    if raw is None or token is None:
        return await guard.anonymous(anonymous, error=Unauthorized())
    policies = limits.authenticated(spec)
    return await guard.authenticated(token, policies, anonymous)


def _admit(verdict: Verdict) -> dict[str, str]:
    """The rate-limit headers for the response; raises the 429 or 401 the verdict calls for."""
    headers = verdict.decision.headers() if verdict.decision else {}
    if verdict.decision is not None and not verdict.decision.admitted:
        raise RateLimited(headers=headers)
    if verdict.error is not None:
        verdict.error.headers.update(headers)
        raise verdict.error
    return headers


Answer = Callable[[web.Request, Verdict, dict[str, str]], Awaitable[web.StreamResponse]]


def _guarded(spec: RouteSpec | None, answer: Answer) -> Handler:
    """`answer` once the guard admitted the request; its errors carry the rate-limit headers
    too (`answer` adds them to its response)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        verdict = await _verdict(request, spec)
        headers = _admit(verdict)
        try:
            return await answer(request, verdict, headers)
        except ApiError as error:
            error.headers.update(headers)
            raise

    return handle


def proxy_handler(spec: RouteSpec, route: str) -> Handler:
    """A proxied route's whole path, the lean one: no middleware chain between the socket and
    the proxy. The request context (id, error answers, metrics and the access line, for the
    route template `route`) is served once, inline, around the front door's checks, the guard
    and the proxy; the route's policies were made when the route was."""

    async def forward(
        request: web.Request, verdict: Verdict, headers: dict[str, str]
    ) -> web.StreamResponse:
        return await request.app[PROXY].forward(
            request,
            spec.upstream,
            upstream_target(request.raw_path, request.path, request.rel_url.raw_query_string),
            client=request[CLIENT],
            identity_jwt=verdict.identity_jwt,
            extra_headers=headers,
            max_body=spec.max_body,
        )

    guarded = _guarded(spec, forward)

    async def admitted(request: web.Request) -> web.StreamResponse:
        check_front(request)
        return await guarded(request)

    async def handle(request: web.Request) -> web.StreamResponse:
        return await request.app[REQUEST_CONTEXT].serve(request, admitted, route)

    return handle


def local_handler(spec: RouteSpec) -> Handler:
    local = LOCAL_ANSWERS[spec.path]

    async def answer(
        request: web.Request, _: Verdict, headers: dict[str, str]
    ) -> web.StreamResponse:
        response = await local(request)
        response.headers.update(headers)
        return response

    return _guarded(spec, answer)


def method_not_allowed(allowed: Iterable[str]) -> Handler:
    """A known path asked with another method: 405 naming the path's methods (counted against
    the client's address, like any request without a route)."""
    allow = ", ".join(sorted(allowed))

    async def refuse(
        request: web.Request, _: Verdict, headers: dict[str, str]
    ) -> web.StreamResponse:
        raise MethodNotAllowed(headers={"Allow": allow})

    return _guarded(None, refuse)


async def _no_route(
    request: web.Request, _: Verdict, headers: dict[str, str]
) -> web.StreamResponse:
    raise NotFound()


# Unknown paths (and /internal/*, which is never proxied) still count against the IP.
not_found = _guarded(None, _no_route)
