"""Request handling: authenticate and limit (guard), then proxy or answer locally."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway import docs
from gateway.front import CLIENT
from gateway.guard import Verdict
from gateway.keys import GUARD, LIMITS, OPENAPI, PROXY
from gateway.routes import RouteSpec, upstream_path
from shared.errors import ApiError, NotFound, RateLimited, Unauthorized
from shared.tokens import parse_token
from shared.web import html_security_headers, json_response, new_nonce

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    token = parse_token(raw) if raw else None
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


def proxy_handler(spec: RouteSpec) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        verdict = await _verdict(request, spec)
        headers = _admit(verdict)
        try:
            return await request.app[PROXY].forward(
                request,
                spec.upstream,
                upstream_path(request.path, request.rel_url.raw_query_string),
                client=request[CLIENT],
                identity_jwt=verdict.identity_jwt,
                extra_headers=headers,
            )
        except ApiError as error:
            error.headers.update(headers)
            raise

    return handle


def local_handler(spec: RouteSpec) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        headers = _admit(await _verdict(request, spec))
        if request.path.endswith("openapi.json"):
            # A pure OpenAPI document (tools validate it), so without the envelope (docs/api.md).
            return json_response(request.app[OPENAPI], headers=headers, envelope=False)
        nonce = new_nonce()
        return web.Response(
            text=docs.render_docs_page(request.app[OPENAPI], style_nonce=nonce),
            content_type="text/html",
            headers=headers | html_security_headers(style_nonce=nonce),
        )

    return handle


async def not_found(request: web.Request) -> web.StreamResponse:
    """Unknown paths (and /internal/*, which is never proxied) still count against the IP."""
    headers = _admit(await _verdict(request, None))
    raise NotFound(headers=headers)
