"""The services' documents are fetched over HTTP from their internal route and cached: a
service that is down keeps its last good copy, a missing one is asked again on demand, and a
request never waits long for a fetch."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.reference.cache import DocumentCache, http_fetcher
from gateway.reference.public import publish

SECRET = "cache-test-secret"


def _document(path: str, operation_id: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            path: {
                "get": {
                    "operationId": operation_id,
                    "tags": ["Invoices"],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


@dataclass
class FakeService:
    """A real HTTP server answering /internal/openapi.json as the test tells it to."""

    document: dict[str, Any] | None
    status: int = 200
    secrets: list[str | None] = field(default_factory=list)
    hold: asyncio.Event | None = None  # answer only once set

    async def handle(self, request: web.Request) -> web.Response:
        self.secrets.append(request.headers.get("X-Internal-Secret"))
        if self.hold is not None:
            await self.hold.wait()
        if self.document is None:
            return web.Response(status=self.status, text="nope")
        return web.json_response(self.document, status=self.status)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def services() -> AsyncIterator[dict[str, tuple[FakeService, TestServer]]]:
    made = {}
    for name, document in (
        ("auth", _document("/api/v1/me", "get_me")),
        ("billing", None),  # not serving its document yet
    ):
        service = FakeService(document, status=200 if document else 404)
        app = web.Application()
        app.router.add_get("/internal/openapi.json", service.handle)
        server = TestServer(app)
        await server.start_server()
        made[name] = (service, server)
    yield made
    for _, server in made.values():
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def _cache(session: aiohttp.ClientSession, urls: dict[str, str], clock: Clock) -> DocumentCache:
    return DocumentCache(
        http_fetcher(session, urls, SECRET, timeout=5),
        list(urls),
        publish,
        interval=60,
        retry=5,
        wait=5,
        clock=clock,
    )


def _urls(services: dict[str, tuple[FakeService, TestServer]]) -> dict[str, str]:
    return {name: str(server.make_url("/")) for name, (_, server) in services.items()}


async def test_fetched_with_the_secret_and_a_missing_service_asked_again(services, session):
    clock = Clock()
    cache = _cache(session, _urls(services), clock)
    document = await cache.current()
    assert "/api/v1/me" in document["paths"] and cache.missing == ("billing",)
    assert services["auth"][0].secrets == [SECRET]
    billing = services["billing"][0]
    billing.document, billing.status = _document("/api/v1/invoices", "list_invoices"), 200
    await cache.current()  # not yet: asked again at most every `retry` seconds
    assert len(billing.secrets) == 1
    clock.now += 5
    document = await cache.current()
    assert {"/api/v1/me", "/api/v1/invoices"} <= set(document["paths"])
    assert cache.missing == ()
    assert json.loads((await cache.served()).body) == document  # what is served
    clock.now += 30  # neither missing nor stale: served from the cache
    await cache.current()
    assert len(billing.secrets) == 2


async def test_a_service_down_keeps_its_last_good_copy(services, session):
    clock = Clock()
    cache = _cache(session, _urls(services), clock)
    assert "/api/v1/me" in (await cache.current())["paths"]
    auth = services["auth"][0]
    auth.document, auth.status = None, 503
    clock.now += 60
    assert "/api/v1/me" in (await cache.current())["paths"]
    await services["auth"][1].close()  # and now not even listening
    clock.now += 60
    assert "/api/v1/me" in (await cache.current())["paths"]
    assert len(auth.secrets) == 2


async def test_a_document_that_cannot_be_merged_leaves_the_last_good_one(services, session):
    clock = Clock()
    cache = _cache(session, _urls(services), clock)
    first = await cache.current()
    billing = services["billing"][0]
    billing.document, billing.status = _document("/api/v1/me", "get_me_again"), 200
    clock.now += 60
    assert await cache.current() == first  # GET /api/v1/me documented twice: not merged
    billing.document = {"not": "a document"}
    clock.now += 60
    assert await cache.current() == first


async def test_a_slow_service_does_not_hold_requests(services, session):
    clock = Clock()
    urls = _urls(services)
    cache = DocumentCache(
        http_fetcher(session, urls, SECRET, timeout=5),
        list(urls),
        publish,
        interval=60,
        retry=5,
        wait=0.05,
        clock=clock,
    )
    auth = services["auth"][0]
    auth.hold = asyncio.Event()
    served = await cache.current()  # the fetch is still waiting for auth
    assert "/api/v1/me" not in served["paths"]
    assert "/api/v1/openapi.json" in served["paths"]  # the gateway's own routes, at least
    auth.hold.set()
    await cache.refresh()  # the same fetch, finishing in the background
    assert "/api/v1/me" in (await cache.current())["paths"]
