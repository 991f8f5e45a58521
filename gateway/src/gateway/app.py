"""The gateway: the one public entry. Authenticates, rate-limits and proxies."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Iterator, Sequence

import aiohttp
from aiohttp import web

from gateway.batcher import ScriptBatcher
from gateway.clients import ClientAddresses
from gateway.cors import CORS, UNROUTED, Cors, browsers_and_strays
from gateway.front import front_door
from gateway.guard import Guard
from gateway.handlers import local_handler, method_not_allowed, not_found, proxy_handler
from gateway.introspection import Introspector
from gateway.keys import (
    BATCHER,
    CLIENTS,
    DOCUMENTS,
    GUARD,
    INTROSPECTOR,
    LIMITS,
    PROXY,
    REDIS,
    SESSION,
    SETTINGS,
    UPSTREAMS,
)
from gateway.limits import Limits
from gateway.proxy import Proxy
from gateway.redis_pipe import RedisPipe
from gateway.reference.cache import DocumentCache, http_fetcher
from gateway.reference.public import publish
from gateway.routes import ROUTES, RouteSpec, alias_of
from gateway.settings import Settings
from gateway.upstream_http import UpstreamClient
from gateway.upstreams import Upstreams
from shared.logging import configure_logging
from shared.ratelimit import SLIDING_WINDOW_LUA
from shared.web import (
    MAX_BODY_BYTES,
    METRICS_REGISTRY,
    behind_middlewares,
    create_base_app,
    metrics_listener,
)


async def _redis(app: web.Application) -> AsyncIterator[None]:
    # Short: the guard falls back (or refuses) quickly when Redis is unreachable.
    app[REDIS] = RedisPipe(app[SETTINGS].redis_url, timeout=0.25)
    yield
    await app[REDIS].close()


async def _http(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=settings.upstream_connections, limit_per_host=0, keepalive_timeout=30
        ),
        timeout=aiohttp.ClientTimeout(
            total=None,
            connect=settings.upstream_connect_timeout,
            sock_read=settings.upstream_read_timeout,
        ),
        auto_decompress=False,  # bodies pass through byte for byte, with their encoding
        cookie_jar=aiohttp.DummyCookieJar(),  # never carry one client's cookies to another
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )
    # The proxy's own upstream leg, lighter than ClientSession (kept for the gateway's
    # calls to auth-service and the OpenAPI documents).
    client = UpstreamClient(
        limit=settings.upstream_connections,
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
        keepalive_timeout=30,
    )
    upstreams = Upstreams(
        settings.upstream_urls,
        settings.upstream_resolve_interval,
        on_refresh=client.prune,
    )
    await upstreams.start()
    batcher = ScriptBatcher(app[REDIS], SLIDING_WINDOW_LUA, registry=app[METRICS_REGISTRY])
    introspector = Introspector(
        session,
        settings.auth_url,
        settings.internal_secret.get_secret_value(),
        margin_seconds=settings.identity_cache_margin_seconds,
        negative_seconds=settings.negative_cache_seconds,
    )
    app[SESSION] = session
    app[UPSTREAMS] = upstreams
    app[BATCHER] = batcher
    app[INTROSPECTOR] = introspector
    app[GUARD] = Guard(
        batcher,
        introspector,
        cache_prefix=settings.token_cache_prefix,
        fail_closed=settings.rate_limit_fail_closed,
        retry_after_failure=settings.redis_retry_after_failure_seconds,
        registry=app[METRICS_REGISTRY],
    )
    app[PROXY] = Proxy(client, upstreams)
    yield
    await upstreams.stop()
    await client.close()
    await session.close()


async def _documents(app: web.Application) -> AsyncIterator[None]:
    """The services' OpenAPI documents, refetched in the background (see DocumentCache)."""
    settings = app[SETTINGS]
    urls = settings.upstream_urls
    app[DOCUMENTS] = DocumentCache(
        http_fetcher(
            app[SESSION],
            urls,
            settings.internal_secret.get_secret_value(),
            settings.openapi_fetch_timeout,
        ),
        list(urls),
        publish,
        interval=settings.openapi_refresh_seconds,
        retry=settings.openapi_retry_seconds,
        wait=settings.openapi_wait_seconds,
    )
    task = asyncio.create_task(app[DOCUMENTS].run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# The collector's youngest generation runs when allocations outnumber deallocations by this
# much (Python's default: 700). A request's objects are freed by their reference counts as it
# ends; at 700 the collector ran every few requests to scan the ones still in flight (50
# connections' worth), then again as they aged: 31 µs of CPU per request, about 13 % of the
# gateway's (bench/RESULTS.md, 2026-12-07). Garbage in reference cycles still triggers it.
_YOUNG_THRESHOLD = 7_000
_OLDER_THRESHOLD = 20


async def _freeze_startup_objects(_: web.Application) -> None:
    """What startup made (modules, the route table, settings, pools) lives as long as the
    process: moved out of the collector's reach, a full collection scans only what requests
    made. Measured under load (bench/gateway/tail.py): a gen-2 pass took 68 ms before, one
    request's share of the tail at half of the peak. Then the collector runs less often
    (see _YOUNG_THRESHOLD)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_YOUNG_THRESHOLD, _OLDER_THRESHOLD, _OLDER_THRESHOLD)


def _by_path(specs: tuple[RouteSpec, ...]) -> Iterator[tuple[str, list[RouteSpec]]]:
    """The specs grouped by path, in the order each path first appears."""
    grouped: dict[str, list[RouteSpec]] = {}
    for spec in specs:
        grouped.setdefault(spec.path, []).append(spec)
    yield from grouped.items()


def _with_head(methods: Sequence[str], on_path: Sequence[str]) -> list[str]:
    """HEAD wherever GET is (RFC 9110 9.1), unless the path declares HEAD itself."""
    extra = ["HEAD"] if "GET" in methods and "HEAD" not in on_path else []
    return [*methods, *extra]


def _add_routes(app: web.Application) -> None:
    # Canonical /api/v1 routes first, then their /api aliases, then the catch-all 404. A path
    # with a closed list of methods answers any other with 405 (else a wrong method on an
    # auth route, say, would fall through to the catch-all and reach billing).
    for aliases in (False, True):
        for canonical, specs in _by_path(ROUTES):
            path = alias_of(canonical) if aliases else canonical
            if path is None:
                continue
            resource = app.router.add_resource(path)
            methods = [method for spec in specs for method in spec.methods]
            for spec in specs:
                handler = (
                    behind_middlewares(app, local_handler(spec))
                    if spec.upstream == "local"
                    else proxy_handler(spec, resource.canonical)
                )
                for method in _with_head(spec.methods, methods):
                    resource.add_route(method, handler)
            methods = _with_head(methods, methods)
            if "*" not in methods:
                resource.add_route("*", behind_middlewares(app, method_not_allowed(methods)))
    app.router.add_route("*", "/{tail:.*}", behind_middlewares(app, not_found))


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings()
    configure_logging("gateway", settings.log_level, settings.log_json)
    # Bodies stream through; client_max_size only bounds chunked uploads the proxy buffers.
    # Its port is the public one: /metrics is served on an internal port only.
    # Proxied routes are served without the middleware chain (handlers.proxy_handler); the
    # gateway's own answers get it composed into their handlers.
    app = create_base_app(
        "gateway",
        middlewares=[front_door],
        client_max_size=MAX_BODY_BYTES,
        serve_metrics=False,
        per_route_middlewares=True,
    )
    app[SETTINGS] = settings
    app[CLIENTS] = ClientAddresses(settings.trusted_proxies)
    app[LIMITS] = Limits(settings)
    app.cleanup_ctx.append(_redis)
    app.cleanup_ctx.append(_http)
    app.cleanup_ctx.append(_documents)
    app.cleanup_ctx.append(metrics_listener(lambda a: (a[SETTINGS].host, a[SETTINGS].metrics_port)))
    app.on_startup.append(_freeze_startup_objects)  # after the cleanup contexts' setup
    _add_routes(app)
    app[CORS] = Cors(settings.cors_origins, settings.cors_max_age)
    if app[CORS].enabled:  # (its marks are for allowed origins: none, no hook to run)
        app.on_response_prepare.append(app[CORS].mark)
    app[UNROUTED] = behind_middlewares(app, not_found)
    # The one middleware of the app itself (the rest are composed into the routes): before
    # any route's handler, for the requests no route should see.
    app.middlewares.append(browsers_and_strays)
    return app
