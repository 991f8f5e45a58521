"""App factory pieces every service uses: middlewares, JSON responses, ops endpoints."""

from __future__ import annotations

import asyncio
import contextvars
import json
import multiprocessing
import multiprocessing.connection
import re
import secrets
import signal
import time
import uuid
from bisect import bisect_left
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from itertools import accumulate
from typing import Any

import asyncpg
import orjson
import structlog
from aiohttp import web, web_response
from aiohttp.typedefs import Middleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import INF, floatToGoString
from pydantic import BaseModel

from shared.errors import (
    ApiError,
    BadRequest,
    Conflict,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
    is_transient,
)
from shared.ids import unique_id
from shared.logging import access_log, get_logger
from shared.settings import ServiceSettings
from shared.wire_errors import JsonErrorsAppRunner

MAX_BODY_BYTES = 1024 * 1024
# A CSV import's file (billing's POST /imports/*): the one body allowed to be larger.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = web.RequestKey("request_id", str)  # the id the response will carry

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ReadinessCheck = Callable[[web.Application], Awaitable[None]]

READINESS_CHECKS = web.AppKey("readiness_checks", list[tuple[str, ReadinessCheck]])
SERVICE_NAME = web.AppKey("service_name", str)

# The Prometheus registry /metrics serves: one per app, made by its factory, so every app
# (several in one test process) counts its own. A service's own metrics go on it too.
METRICS_REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)


class _Served:
    """One series of http_requests_total: the requests counted, since `created`."""

    __slots__ = ("count", "created")

    def __init__(self) -> None:
        self.count = 0.0
        self.created = time.time()


class _Latency:
    """One series of http_request_duration_seconds: the requests by the first bucket whose
    bound they are within (not cumulative), and their sum."""

    __slots__ = ("buckets", "created", "sum")

    def __init__(self) -> None:
        self.buckets = [0.0] * len(_LATENCY_BOUNDS)
        self.sum = 0.0
        self.created = time.time()


_LATENCY_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, INF)
# The `le` labels as prometheus_client writes them (its formatting function is untyped).
_LATENCY_LE = tuple(floatToGoString(bound) for bound in _LATENCY_BOUNDS)  # type: ignore[no-untyped-call]


class HttpMetrics:
    """Requests served and their latency, by route: a collector of the app's registry.

    Counted in plain Python as requests are served, handed to Prometheus only when /metrics is
    read: prometheus_client's Counter and Histogram take a lock per increment (two per request,
    on the gateway's hot path) for threads the services' requests never run on. What a scrape
    shows is what that Counter and Histogram showed: the same series, values, buckets and
    `_created` times."""

    def __init__(self, registry: CollectorRegistry, service: str = "") -> None:
        self._service = service
        # Each (method, route, status) with its counter series and its route's latency series.
        self._series: dict[tuple[str, str, int], tuple[_Served, _Latency]] = {}
        self._latency: dict[str, _Latency] = {}
        registry.register(self)

    def observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        # A method of the client's invention is one label, not a new series per spelling.
        method = method if method in _METHODS else "OTHER"
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (_Served(), self._latency_of(route))
        served, latency = series
        served.count += 1.0
        latency.sum += elapsed
        latency.buckets[bisect_left(_LATENCY_BOUNDS, elapsed)] += 1.0

    def _latency_of(self, route: str) -> _Latency:
        latency = self._latency.get(route)
        if latency is None:
            latency = self._latency[route] = _Latency()
        return latency

    def describe(self) -> list[Metric]:
        """The metric names (the registry refuses a second collector of the same ones)."""
        return [self._requests_family(), self._latency_family()]

    def collect(self) -> list[Metric]:
        requests = self._requests_family()
        for (method, route, status), (served, _) in list(self._series.items()):
            labels = [self._service, method, route, str(status)]
            requests.add_metric(labels, served.count, created=served.created)
        latency = self._latency_family()
        for route, series in list(self._latency.items()):
            cumulative = list(zip(_LATENCY_LE, accumulate(series.buckets), strict=True))
            latency.add_metric([self._service, route], cumulative, series.sum)
            latency.add_sample(
                f"{latency.name}_created",
                {"service": self._service, "route": route},
                series.created,
            )
        return [requests, latency]

    @staticmethod
    def _requests_family() -> CounterMetricFamily:
        return CounterMetricFamily(
            "http_requests_total",
            "HTTP requests served",
            labels=["service", "method", "route", "status"],
        )

    @staticmethod
    def _latency_family() -> HistogramMetricFamily:
        return HistogramMetricFamily(
            "http_request_duration_seconds", "HTTP request latency", labels=["service", "route"]
        )


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


HTTP_METRICS = web.AppKey("http_metrics", HttpMetrics)


def new_metrics_registry() -> CollectorRegistry:
    """A registry with the process metrics the global one would have (CPU, memory, GC)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


log = get_logger("shared.web")


def _default(value: Any) -> Any:
    """What orjson does not encode itself. Money stays an exact string, never a float."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, BaseModel):
        # A response model as its fields by their public names; nested values come back here.
        return value.model_dump(by_alias=True)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _legacy_default(value: Any) -> Any:
    """What orjson encodes itself, written the same way by the standard library."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return _default(value)


# Datetimes as today's answers have them (`2026-01-02T03:04:05.000006Z`); integer dict keys
# as strings, as the standard library writes them.
_ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def dumps_bytes(payload: Any) -> bytes:
    """Compact JSON, UTF-8. orjson; what it refuses (an integer past 64 bits, a lone
    surrogate in a string) is written by the standard library as before."""
    try:
        return orjson.dumps(payload, default=_default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError as error:
        if isinstance(error.__cause__, TypeError) and "not JSON serialisable" in str(error):
            raise error.__cause__ from None
        return json.dumps(payload, default=_legacy_default, separators=(",", ":")).encode()


def dumps(payload: Any) -> str:
    return dumps_bytes(payload).decode()


def with_success(payload: Any, status: int) -> Any:
    """The envelope (docs/api.md): every JSON object answered says whether it is a success, and an
    error also names its code in lower case (`error`, InvoiceFlow's key). What the payload
    already says is kept. A response model answered whole (`Plain`) is enveloped likewise."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(by_alias=True)
    if not isinstance(payload, dict):
        return payload
    envelope: dict[str, Any] = {"success": status < 400}
    code = payload.get("error_code")
    if status >= 400 and isinstance(code, str):
        envelope["error"] = code.lower()
    return envelope | payload


def json_response(
    payload: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    envelope: bool = True,
) -> web.Response:
    """A JSON answer. `envelope=False` only for a document with a format of its own (the
    OpenAPI document, a JWKS), which must stay exactly that format."""
    body = with_success(payload, status) if envelope else payload
    return web.Response(
        body=dumps_bytes(body),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


def with_success_bytes(body: bytes | None, status: int, content_type: str | None) -> bytes | None:
    """`with_success` for a stored JSON body (an answer kept before the envelope existed)."""
    if body is None or content_type != "application/json":
        return body
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    enveloped = with_success(payload, status)
    return body if enveloped == payload else dumps(enveloped).encode()


def error_response(error: ApiError) -> web.Response:
    return json_response(error.body(), status=error.status, headers=error.headers)


_HTTP_EXCEPTION_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}


def _error_for_http_exception(exc: web.HTTPException) -> ApiError:
    error_type = _HTTP_EXCEPTION_ERRORS.get(exc.status)
    if error_type is not None:
        # A 405 says which methods the path has (RFC 9110), as aiohttp's router knows them.
        allow = exc.headers.get("Allow")
        return error_type(headers={"Allow": allow} if allow else None)
    error = ApiError(exc.reason)
    error.status = exc.status
    error.error_code = exc.reason.upper().replace(" ", "_")
    return error


def error_answer(request: web.Request, exc: Exception) -> web.Response:
    """The one place where exceptions become the JSON error shape of docs/api.md. Called in
    the `except` block that caught `exc` (an unexpected one is logged with its traceback); a
    redirect (an HTTPException below 400) is raised again."""
    if isinstance(exc, ApiError):
        return error_response(exc)
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        return error_response(_error_for_http_exception(exc))
    if isinstance(exc, asyncpg.DataError):
        # A value the database cannot take (out of range, not encodable) that validation let
        # through: the client's input, so a 400; but validation should have caught it, so a
        # bug to log. Only the error's kind: its message can quote the value.
        log.error(
            "unvalidated_input_reached_database",
            error=type(exc).__name__,
            sqlstate=getattr(exc, "sqlstate", None),
            method=request.method,
            route=_route_label(request),
        )
        return error_response(BadRequest("The request holds a value out of range."))
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        # A record the request names was deleted (or gained a reference) between its check
        # and the write, by a concurrent request: what the check would have said now.
        return error_response(_vanished_reference(exc))
    if is_transient(exc):
        # The database or Redis restarting, or out of reach: the transaction rolled back with
        # its connection, so the client may send the request again (docs/api.md, "Errors").
        log.warning(
            "dependency_unavailable",
            error=type(exc).__name__,
            method=request.method,
            route=_route_label(request),
        )
        return error_response(ServiceUnavailable())
    log.exception("unhandled_error", method=request.method, route=_route_label(request))
    return error_response(ApiError())


_MISSING_KEY = re.compile(r"Key \((\w+)\)=\(.*\) is not present in table")


def _vanished_reference(exc: asyncpg.ForeignKeyViolationError) -> ApiError:
    """A write naming a row that is gone is a 422 on that field (the id exists nowhere now);
    a delete of a row that just became referenced is a 409."""
    found = _MISSING_KEY.search(str(getattr(exc, "detail", "") or ""))
    if found is None:
        return Conflict("The record is referenced by another record; retry the request.")
    field = found.group(1)
    return ValidationFailed.field(field, f"The selected {field.replace('_', ' ')} is invalid.")


class RequestContext:
    """What every request of an app gets around its handler, with all that does not change
    per request bound once: a request id (kept from the caller or made here), the JSON error
    answer for what the handler raised, metrics and the access line."""

    def __init__(self, service: str, metrics: HttpMetrics) -> None:
        self._service = service
        self._metrics = metrics
        self._request_id_var = _structlog_context_var("request_id")

    async def serve(self, request: web.Request, handler: Handler, route: str) -> web.StreamResponse:
        request_id = request.headers.get(REQUEST_ID_HEADER) or unique_id()
        request[REQUEST_ID] = request_id
        # In every log line made while the request is handled (structlog's contextvars).
        bound = self._request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        try:
            try:
                response = await handler(request)
            except Exception as exc:
                response = error_answer(request, exc)
            status = response.status
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            elapsed = time.perf_counter() - started
            self._metrics.observe(request.method, route, status, elapsed)
            if route not in _QUIET_ROUTES:
                access_log(self._service, request_id, request.method, route, status, elapsed)
            self._request_id_var.reset(bound)


def _structlog_context_var(key: str) -> contextvars.ContextVar[Any]:
    """The context variable structlog's bind_contextvars(key=...) sets (one per key), for a
    per-request set and reset without bind and unbind looking it up by its name each time."""
    token = structlog.contextvars.bind_contextvars(**{key: ...})[key]
    token.var.reset(token)
    return token.var


REQUEST_CONTEXT = web.AppKey("request_context", RequestContext)


@web.middleware
async def request_context_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """RequestContext.serve around every route of an app (a path of its own, like the
    gateway's proxied routes, calls it itself instead)."""
    return await request.app[REQUEST_CONTEXT].serve(request, handler, _route_label(request))


_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def _route_label(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


async def healthz(_: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    failures: dict[str, str] = {}
    for name, check in request.app[READINESS_CHECKS]:
        try:
            await asyncio.wait_for(check(request.app), timeout=2)
        except Exception as exc:  # a failing dependency is reported, not raised
            failures[name] = type(exc).__name__
    if failures:
        return json_response({"status": "unavailable", "failing": failures}, status=503)
    return json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS_REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def html_security_headers(*, style_nonce: str | None = None) -> dict[str, str]:
    """The headers of an HTML page: it loads nothing, runs no script, submits no form and is
    framed by nobody; its only allowance is its own <style> element carrying `style_nonce`."""
    policy = "default-src 'none'"
    if style_nonce is not None:
        policy += f"; style-src 'nonce-{style_nonce}'"
    return {
        "Content-Security-Policy": f"{policy}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def new_nonce() -> str:
    """A fresh Content-Security-Policy nonce, one per page served."""
    return secrets.token_urlsafe(16)


# aiohttp stamps `Server: Python/3.x aiohttp/3.x` on every response it did not get one for.
# _harden_response removes it from everything a route answers; the 400s aiohttp's HTTP parser
# sends for a malformed request run no application code, and aiohttp has no setting for this:
# its default, a module constant, is blanked for those (they go out with an empty `Server:`).
setattr(web_response, "SERVER_SOFTWARE", "")  # noqa: B010 - a name aiohttp does not export


async def _harden_response(_: web.Request, response: web.StreamResponse) -> None:
    """Every response a route produced (handlers, errors, proxied answers): no `Server`
    header naming aiohttp's and Python's versions, and any HTML page without its own policy
    gets the strictest one (a page that needs more sets its own headers)."""
    headers = response.headers
    headers.popall("Server", None)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # `content_type` parses the header (a microsecond or more, on every answer): only one
    # naming html can be html (the media type is a token of the header's own letters).
    raw_type = headers.get("Content-Type")
    if raw_type is not None and "html" in raw_type.lower() and response.content_type == "text/html":
        for name, value in html_security_headers().items():
            headers.setdefault(name, value)


# The middlewares an app's routes get in their handlers rather than from aiohttp (see
# create_base_app's `per_route_middlewares`); empty when aiohttp applies them to every route.
ROUTE_MIDDLEWARES: web.AppKey[tuple[Middleware, ...]] = web.AppKey("route_middlewares")


def create_base_app(
    service: str,
    *,
    middlewares: list[Middleware] | None = None,
    client_max_size: int = MAX_BODY_BYTES,
    serve_metrics: bool = True,
    per_route_middlewares: bool = False,
) -> web.Application:
    """An application with the shared middlewares and the ops endpoints. A service whose port
    is public passes `serve_metrics=False` and serves them with `metrics_listener` instead.

    With `per_route_middlewares`, the middlewares are no part of the app: a route whose
    handler is made with `behind_middlewares` gets them composed into it once, and any other
    route is served by its handler alone (the gateway's proxied routes, which do the same work inline:
    RequestContext.serve)."""
    chain = (request_context_middleware, *(middlewares or []))
    app = web.Application(
        client_max_size=client_max_size, middlewares=() if per_route_middlewares else chain
    )
    app[ROUTE_MIDDLEWARES] = chain if per_route_middlewares else ()
    app[SERVICE_NAME] = service
    app[READINESS_CHECKS] = []
    app[METRICS_REGISTRY] = new_metrics_registry()
    app[HTTP_METRICS] = HttpMetrics(app[METRICS_REGISTRY], service)
    app[REQUEST_CONTEXT] = RequestContext(service, app[HTTP_METRICS])
    app.on_response_prepare.append(_harden_response)
    app.router.add_get("/healthz", behind_middlewares(app, healthz))
    app.router.add_get("/readyz", behind_middlewares(app, readyz))
    if serve_metrics:
        app.router.add_get("/metrics", behind_middlewares(app, metrics))
    return app


def behind_middlewares(app: web.Application, handler: Handler) -> Handler:
    """`handler` as a route of the app registers it: behind the app's middlewares, whichever
    way the app applies them (composed here once, or by aiohttp)."""
    chain: tuple[Middleware, ...] = app[ROUTE_MIDDLEWARES]
    for middleware in reversed(chain):
        handler = _behind(middleware, handler)
    return handler


def _behind(middleware: Middleware, inner: Handler) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await middleware(request, inner)

    return handle


def metrics_listener(
    address: Callable[[web.Application], tuple[str, int]],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context serving `/metrics` on its own (internal) address, beside the app's
    public one. Every worker process binds it (SO_REUSEPORT), like the public port."""

    async def serve(app: web.Application) -> AsyncIterator[None]:
        metrics_app = web.Application()
        metrics_app[METRICS_REGISTRY] = app[METRICS_REGISTRY]
        metrics_app.on_response_prepare.append(_harden_response)
        metrics_app.router.add_get("/metrics", metrics)
        runner = web.AppRunner(metrics_app, access_log=None)
        await runner.setup()
        host, port = address(app)
        await web.TCPSite(runner, host, port, reuse_port=True).start()
        yield
        await runner.cleanup()

    return serve


def add_readiness_check(app: web.Application, name: str, check: ReadinessCheck) -> None:
    app[READINESS_CHECKS].append((name, check))


def run(app_factory: Callable[[], web.Application], settings: ServiceSettings) -> None:
    """Serve the app; with `settings.workers` > 1, that many processes share the port
    (SO_REUSEPORT), one per core, each with its own event loop, pools and connections.

    SIGTERM (or SIGINT) stops it gracefully: see `_serve_until_stopped`."""
    if settings.workers <= 1:
        _serve(app_factory, settings)
        return
    processes = [
        multiprocessing.Process(target=_serve, args=(app_factory, settings), daemon=True)
        for _ in range(settings.workers)
    ]
    for process in processes:
        process.start()

    def stop(signum: int, _: object) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: each worker shuts down gracefully

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # Any worker ending ends the service, so the orchestrator restarts it whole.
    multiprocessing.connection.wait([process.sentinel for process in processes])
    stop(signal.SIGTERM, None)
    for process in processes:
        process.join(timeout=_longest_shutdown(settings) + 5)
    raise SystemExit(max((process.exitcode or 0) for process in processes))


def _longest_shutdown(settings: ServiceSettings) -> float:
    """The drain, then in-flight requests, then the cleanup (a background loop's current row)."""
    return settings.shutdown_drain_seconds + 2 * settings.shutdown_timeout_seconds


def _serve(app_factory: Callable[[], web.Application], settings: ServiceSettings) -> None:
    """Serve on uvloop when available (a faster event loop with the same semantics)."""
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is absent on Windows only
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(_serve_until_stopped(app_factory(), settings))
    finally:
        loop.close()


class ShuttingDown(Exception):
    """Reported by /readyz while the service drains before it stops."""


async def _serve_until_stopped(app: web.Application, settings: ServiceSettings) -> None:
    """Serves until SIGTERM or SIGINT, then stops without failing a request it accepted:

    1. drain (`SHUTDOWN_DRAIN_SECONDS`): still accepting, but /readyz answers 503 and every
       response closes its connection, so balancers and the gateway (which re-resolves its
       upstreams every few seconds) move their traffic to the other replicas first;
    2. stop accepting, close idle connections, let the requests in flight finish (at most
       `SHUTDOWN_TIMEOUT_SECONDS`, then they are cancelled);
    3. the cleanup contexts, in reverse: background loops finish their current row, then the
       pools close.
    """
    draining = asyncio.Event()
    add_readiness_check(app, "shutdown", _not_draining(draining))
    app.on_response_prepare.append(_close_connection_when(draining))
    runner = JsonErrorsAppRunner(
        app, access_log=None, shutdown_timeout=settings.shutdown_timeout_seconds
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_port=True, backlog=1024)
        await site.start()
        await _stop_signal()
        log.info("shutdown_started", drain_seconds=settings.shutdown_drain_seconds)
        draining.set()
        await asyncio.sleep(settings.shutdown_drain_seconds)
    finally:
        await runner.cleanup()
    log.info("shutdown_complete")


async def _stop_signal() -> None:
    """Returns at the first SIGTERM or SIGINT. The handlers stay: a second signal (the parent of
    several workers sends one when the first worker ends) must not kill a graceful stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def _not_draining(draining: asyncio.Event) -> ReadinessCheck:
    async def check(_: web.Application) -> None:
        if draining.is_set():
            raise ShuttingDown()

    return check


def _close_connection_when(
    draining: asyncio.Event,
) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    async def close(_: web.Request, response: web.StreamResponse) -> None:
        if draining.is_set():
            # The client's next request opens a new connection, which lands on a replica
            # that is staying.
            response.force_close()
            response.headers["Connection"] = "close"

    return close
