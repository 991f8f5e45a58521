"""The gateway in front of the real auth-service and a trivial upstream that echoes what it
received (standing in for billing, so the proxy's behaviour can be observed)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as redis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.settings import Settings

INTERNAL_SECRET = "test-internal-secret-0123456789"


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path_qs": request.path_qs,
            "raw_path": request.raw_path,
            "headers": dict(request.headers),
            "body": body.decode(errors="replace"),
        },
        headers={"Connection": "keep-alive", "X-Upstream": "echo", "Keep-Alive": "timeout=5"},
    )


async def big(_: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(_)
    for index in range(300):
        await response.write(bytes([index % 256]) * 1024)
    await response.write_eof()
    return response


async def digest(request: web.Request) -> web.Response:
    """What an import route received: its length, hash and type (read under a larger limit
    than the gateway's, so the gateway's limit is the one tested)."""
    body = await request.clone(client_max_size=64 * 1024 * 1024).read()
    return web.json_response(
        {
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "content_type": request.headers.get("Content-Type"),
            "content_length": request.headers.get("Content-Length"),
        }
    )


async def slow(_: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.json_response({})


@pytest.fixture(scope="session")
async def upstream() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_get("/api/v1/big", big)
    app.router.add_get("/api/v1/slow", slow)
    app.router.add_post("/api/v1/imports/{kind}", digest)
    app.router.add_route("*", "/{tail:.*}", echo)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    # Anonymous windows are keyed by client IP, and every test comes from 127.0.0.1.
    async for key in client.scan_iter("rl:ip:*"):
        await client.delete(key)
    yield client
    await client.aclose()


GatewayFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def gateway(
    aiohttp_client: Any, auth: Any, upstream: TestServer, redis_url: str, redis_client: Any
) -> GatewayFactory:
    """Build a gateway with settings overrides: `await gateway(rate_limit_default=5)`."""

    async def make(**overrides: Any) -> TestClient:
        upstream_url = str(upstream.make_url("")).rstrip("/")
        values: dict[str, Any] = {
            "environment": "test",
            "redis_url": redis_url,
            "auth_url": auth.url,
            "billing_url": upstream_url,
            "pdf_url": upstream_url,
            "internal_secret": INTERNAL_SECRET,
            "log_json": False,
            "log_level": "WARNING",
            "metrics_port": 0,  # any free port: several gateways may run on this machine
        }
        settings = Settings(**(values | overrides))
        client: TestClient = await aiohttp_client(create_app(settings))
        return client

    return make
