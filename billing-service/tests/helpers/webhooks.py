"""A real webhook receiver on loopback that verifies every request with the official
`standardwebhooks` library, and helpers to drive the delivery loop by hand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from billing_service.events.keys import EVENTS
from billing_service.events.services import document_subject
from billing_service.platform.keys import AUTH, POOL, SETTINGS
from billing_service.webhooks.keys import WEBHOOK_DELIVERY, WEBHOOK_HTTP
from billing_service.webhooks.secrets import SecretBox, new_secret
from billing_service.webhooks.services.delivery import WebhookDelivery


@dataclass
class Received:
    path: str
    id: str
    timestamp: str
    body: bytes
    headers: dict[str, str]
    arrived: float = field(default_factory=time.monotonic)  # when the request came in


@dataclass
class Receiver:
    """Answers 200 unless told otherwise; `secrets` must each verify every request."""

    secrets: list[str] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    bad_signatures: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)  # event id -> 500s still to give
    mode: str = "ok"  # ok | fail | hang | redirect | stream-ok | stream-fail
    target_hits: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    server: TestServer | None = None

    def url(self, path: str = "/hook") -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def ids(self) -> list[str]:
        return [request.id for request in self.requests]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/target":
            self.target_hits += 1
            return web.Response(text="redirect followed")
        body = await request.read()
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, dict(request.headers))
            except WebhookVerificationError as error:
                self.bad_signatures.append(f"{request.path}: {error}")
                return web.Response(status=400)
        event_id = request.headers["webhook-id"]
        self.requests.append(
            Received(
                request.path,
                event_id,
                request.headers["webhook-timestamp"],
                body,
                dict(request.headers),
            )
        )
        if self.failures.get(event_id, 0) > 0:
            self.failures[event_id] -= 1
            return web.Response(status=500, text="not now")
        return await self._answer(request)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        if self.mode == "fail":
            return web.Response(status=500, text="receiver error")
        if self.mode == "hang":
            await self.release.wait()
        if self.mode == "redirect":
            raise web.HTTPFound(self.url("/target"))
        if self.mode.startswith("stream"):
            return await self._stream(request, 200 if self.mode == "stream-ok" else 500)
        return web.Response(text="ok")

    async def _stream(self, request: web.Request, status: int) -> web.StreamResponse:
        """A megabyte with a NUL byte in it, then nothing until the test ends: a client that
        read it to the end would wait for its timeout."""
        response = web.StreamResponse(status=status)
        await response.prepare(request)
        await response.write(b"\x00" + b"x" * (1 << 20))
        await self.release.wait()
        return response


async def start_receiver() -> Receiver:
    receiver = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receiver.handle)
    receiver.server = TestServer(app, host="127.0.0.1")
    await receiver.server.start_server()
    return receiver


async def stop_receiver(receiver: Receiver) -> None:
    receiver.release.set()
    assert receiver.server is not None
    await receiver.server.close()


class MovingClock:
    """The real time moved forward by what the test says (events are stamped with the real
    time, so a fixed instant could stand before them)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


def delivery_for(billing: Any, clock: MovingClock, **settings: Any) -> WebhookDelivery:
    """The app's delivery loop, standing at the test's clock (its metrics are the app's)."""
    app = billing.app
    current = app[SETTINGS].model_copy(update=settings)
    metrics = app[WEBHOOK_DELIVERY].metrics
    return WebhookDelivery(app[POOL], app[WEBHOOK_HTTP], app[AUTH], current, clock, metrics)


async def add_endpoint(
    billing: Any,
    company_id: int,
    url: str,
    *,
    secret: str | None = None,
    previous: tuple[str, datetime] | None = None,
    events: tuple[str, ...] = ("*",),
) -> tuple[int, str]:
    """An endpoint as the API stores it (its secrets sealed); its id and secret."""
    box = SecretBox(billing.app[SETTINGS].webhook_secret_key.get_secret_value())
    secret = secret or new_secret()
    sealed_previous = box.seal(previous[0], company_id) if previous else None
    endpoint_id = await billing.app[POOL].fetchval(
        "INSERT INTO webhook_endpoints (company_id, url, events, secret, previous_secret, "
        "previous_secret_expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        company_id,
        url,
        list(events),
        box.seal(secret, company_id),
        sealed_previous,
        previous[1] if previous else None,
    )
    return endpoint_id, secret


async def emit(
    billing: Any, company_id: int, event_type: str = "invoice.paid", invoice_id: int = 1
) -> str:
    """An event about a made-up invoice, through the event log, in a transaction of its own.
    Its subject orders it like an invoice's but is no real invoice's (other tests in this
    database read real invoices' events by subject)."""
    async with billing.app[POOL].acquire() as conn, conn.transaction():
        data = {"id": invoice_id, "amount_paid": "120.00", "note": "paid in full"}
        return await billing.app[EVENTS].record(
            conn, company_id, event_type, data, subject=f"test-{document_subject(invoice_id)}"
        )


async def attempts_of(billing: Any, event_id: str) -> list[Any]:
    return await billing.app[POOL].fetch(
        "SELECT a.attempt, a.status_code, a.error, a.next_attempt_at, a.created_at, "
        "d.status AS delivery_status "
        "FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
        "JOIN events e ON e.seq = d.event_seq WHERE e.id = $1 ORDER BY a.attempt",
        event_id,
    )


async def delivery_of(billing: Any, event_id: str) -> Any:
    return await billing.app[POOL].fetchrow(
        "SELECT d.* FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq WHERE e.id = $1",
        event_id,
    )


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 30.0) -> Any:
    """Waits for `check` to return something truthy, for at most `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not (result := await check()):
        assert loop.time() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.05)
    return result
