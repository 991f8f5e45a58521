"""SIGTERM to a real service process (`python -m <service>`, as its container runs it): it drains,
stops accepting, finishes the request in flight, closes its pools and exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

WAIT = 60  # seconds: an upper bound for the process to get there, never a timing assertion
INTERNAL_SECRET = "test-internal-secret-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HeldUpstream:
    """Stands in for billing behind the gateway: a public page request waits for `release`."""

    server: TestServer
    arrived: asyncio.Event
    release: asyncio.Event

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")


@pytest.fixture
async def held_upstream() -> AsyncIterator[HeldUpstream]:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def page(request: web.Request) -> web.Response:
        arrived.set()
        await release.wait()
        return web.json_response({"page": request.match_info["public_id"]})

    app = web.Application()
    app.router.add_get("/i/{public_id}", page)
    server = TestServer(app)
    await server.start_server()
    yield HeldUpstream(server, arrived, release)
    release.set()
    await server.close()


@dataclass
class Service:
    process: asyncio.subprocess.Process
    url: str
    log: Path

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    async def exit_code(self) -> int:
        return await asyncio.wait_for(self.process.wait(), WAIT)


ServiceStarter = Callable[..., Awaitable[Service]]


@pytest.fixture
async def start_service(tmp_path: Path) -> AsyncIterator[ServiceStarter]:
    """`await start_service("gateway", PORT=..., ...)`: the service's module run in its own
    process with these settings, once its /healthz answers."""
    started: list[Service] = []

    async def start(module: str, **settings: str) -> Service:
        port = free_port()
        log = tmp_path / f"{module}-{len(started)}.log"
        environment = os.environ | {
            "ENVIRONMENT": "test",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "INTERNAL_SECRET": INTERNAL_SECRET,
            "LOG_JSON": "false",
            **settings,
        }
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", module, env=environment, stdout=output, stderr=output
            )
        service = Service(process, f"http://127.0.0.1:{port}", log)
        started.append(service)
        await until_healthy(service)
        return service

    yield start
    for service in started:
        if service.process.returncode is None:
            service.process.kill()
            await service.process.wait()


async def until_healthy(service: Service) -> None:
    async with asyncio.timeout(WAIT), aiohttp.ClientSession() as session:
        while True:
            assert service.process.returncode is None, service.log.read_text()
            try:
                async with session.get(f"{service.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)


async def until_draining(session: aiohttp.ClientSession, service: Service) -> None:
    """Polls /readyz until it reports the shutdown; that answer closes its connection."""
    async with asyncio.timeout(WAIT):
        while True:
            async with session.get(f"{service.url}/readyz") as response:
                failing = (await response.json()).get("failing", {})
                if "shutdown" in failing:
                    assert response.status == 503
                    assert response.headers["Connection"] == "close"
                    return
            await asyncio.sleep(0.05)


async def until_refused(service: Service) -> None:
    """Polls until the port takes no new connection (the listener is closed)."""
    port = int(service.url.rsplit(":", 1)[1])
    async with asyncio.timeout(WAIT):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except ConnectionRefusedError:
                return
            writer.close()
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("workers", ["1", "2"])
async def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(
    start_service: ServiceStarter, held_upstream: HeldUpstream, redis_url: str, workers: str
) -> None:
    gateway = await start_service(
        "gateway",
        WORKERS=workers,
        METRICS_PORT=str(free_port()),
        REDIS_URL=redis_url,
        AUTH_URL=held_upstream.url,
        BILLING_URL=held_upstream.url,
        PDF_URL=held_upstream.url,
        SHUTDOWN_DRAIN_SECONDS="1",
        SHUTDOWN_TIMEOUT_SECONDS=str(WAIT),
    )
    async with aiohttp.ClientSession() as session:
        in_flight = asyncio.create_task(session.get(f"{gateway.url}/i/held-page"))
        await asyncio.wait_for(held_upstream.arrived.wait(), WAIT)

        gateway.signal(signal.SIGTERM)
        await until_draining(session, gateway)  # still accepting: balancers move away
        await until_refused(gateway)  # then no new connection, the request still held
        assert not in_flight.done()

        held_upstream.release.set()
        response = await asyncio.wait_for(in_flight, WAIT)
        assert response.status == 200
        assert await response.json() == {"page": "held-page"}
        response.release()
    assert await gateway.exit_code() == 0, gateway.log.read_text()


async def test_sigterm_stops_billing_loops_and_pools_and_exits_0(
    start_service: ServiceStarter, database_urls: dict[str, str], jwks_url: str, tmp_path: Path
) -> None:
    billing = await start_service(
        "billing_service",
        DATABASE_URL=database_urls["billing"],
        AUTH_JWKS_URL=jwks_url,
        MAIL_DIR=str(tmp_path),
        MAILER_INTERVAL_SECONDS="0.05",
        SCHEDULER_INTERVAL_SECONDS="0.05",
    )
    billing.signal(signal.SIGTERM)
    assert await billing.exit_code() == 0, billing.log.read_text()
    log = billing.log.read_text()
    assert "shutdown_complete" in log
    assert "loop_stop_timed_out" not in log  # both loops ended between rows
