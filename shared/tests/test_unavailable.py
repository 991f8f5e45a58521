"""A dependency that restarts or is out of reach under a request: the one error middleware
answers a JSON 503 with Retry-After (the request is safe to send again), never a 500, against
a real PostgreSQL whose backend is terminated mid-statement, and databases and a Redis that
refuse connections."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from shared.db import create_pool
from shared.redis_client import create_redis
from shared.web import create_base_app

SLEEP = "SELECT pg_sleep(60) -- cut off by the test"
DATABASE = web.AppKey("database", asyncpg.Pool)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def service(aiohttp_client: Any, database_urls: dict[str, str]) -> Any:
    nowhere = f"127.0.0.1:{closed_port()}"

    async def database(app: web.Application) -> AsyncIterator[None]:
        app[DATABASE] = await create_pool(database_urls["billing"], min_size=1, max_size=2)
        yield
        await app[DATABASE].close()

    async def statement(request: web.Request) -> web.Response:
        await request.app[DATABASE].fetchval(SLEEP)
        return web.json_response({})

    async def unreachable_database(_: web.Request) -> web.Response:
        pool = await asyncpg.create_pool(f"postgresql://u:p@{nowhere}/db", min_size=0)
        try:
            async with pool.acquire():
                return web.json_response({})
        finally:
            await pool.close()

    async def unreachable_redis(_: web.Request) -> web.Response:
        client = create_redis(f"redis://{nowhere}/0")
        try:
            await client.ping()
        finally:
            await client.aclose()
        return web.json_response({})

    async def missing_file(_: web.Request) -> web.Response:
        return web.Response(body=await asyncio.to_thread(Path("/nonexistent/x.html").read_bytes))

    app = create_base_app("test-service")
    app.cleanup_ctx.append(database)
    app.router.add_get("/statement", statement)
    app.router.add_get("/unreachable-database", unreachable_database)
    app.router.add_get("/unreachable-redis", unreachable_redis)
    app.router.add_get("/missing-file", missing_file)
    return await aiohttp_client(app)


async def assert_503(response: Any) -> None:
    assert response.status == 503, await response.text()
    assert response.headers["Retry-After"] == "2"
    body = await response.json()
    assert (body["success"], body["error_code"]) == (False, "SERVICE_UNAVAILABLE")


async def test_a_statement_whose_backend_is_terminated_is_a_503(service, database_urls):
    pending = asyncio.create_task(service.get("/statement"))
    admin = await asyncpg.connect(database_urls["billing"])
    try:
        for _ in range(200):  # until the statement runs (at most 10 s)
            cut = await admin.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query = $1",
                SLEEP,
            )
            if cut:
                break
            await asyncio.sleep(0.05)
        assert cut == 1
    finally:
        await admin.close()
    await assert_503(await pending)


async def test_a_pool_that_cannot_connect_is_a_503(service):
    await assert_503(await service.get("/unreachable-database"))


async def test_an_unreachable_redis_is_a_503(service):
    await assert_503(await service.get("/unreachable-redis"))


async def test_a_missing_file_is_still_a_server_error_not_an_outage(service):
    response = await service.get("/missing-file")
    assert response.status == 500
    assert "Retry-After" not in response.headers
