"""The proxy's upstream leg relays what a backend answers exactly as the aiohttp
ClientSession leg it replaced did: status, the backend's headers (in order, repeated ones
too, less the hop-by-hop and the gateway's own), and the body, whether sent with a length or
chunked, empty, larger than what is relayed in one write, to a HEAD, or a 204/304.

"As before" is computed, not written down: each answer is also fetched straight from the
backend with a ClientSession configured as the old leg was, and put through the response
hygiene the old leg applied (proxy._response_headers)."""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from gateway.app import create_app
from gateway.proxy import SMALL_BODY, _response_headers
from gateway.settings import Settings

# Headers the gateway sets on every answer itself (the request id, rate limits, defaults).
GATEWAY_OWN = frozenset(
    {
        "x-request-id",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "ratelimit",
        "ratelimit-policy",
        "x-content-type-options",
        "content-length",
        "transfer-encoding",
        "date",
        "server",
        "connection",
        "keep-alive",
    }
)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    chunked: bool


def _large_body(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


header_names = st.one_of(
    st.from_regex(r"X-[A-Za-z][A-Za-z0-9-]{0,14}", fullmatch=True),
    st.sampled_from(["Content-Type", "Cache-Control", "ETag", "Set-Cookie", "Location", "Vary"]),
)
# Visible ASCII, inner spaces allowed (HTTP trims a value's outer whitespace).
header_values = st.from_regex(r"[!-~]([ -~]{0,40}[!-~])?", fullmatch=True)
bodies = st.one_of(
    st.just(b""),
    st.binary(min_size=1, max_size=4096),
    st.builds(_large_body, st.integers(SMALL_BODY + 1, 4 * SMALL_BODY), st.integers(0, 2**16)),
)


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    status = draw(st.sampled_from([200, 201, 204, 206, 301, 304, 400, 404, 409, 422, 500, 503]))
    headers = draw(st.lists(st.tuples(header_names, header_values), max_size=8))
    body = b"" if status in (204, 304) else draw(bodies)
    return Answer(status, tuple(headers), body, draw(st.booleans()))


class Backend:
    """The gateway and a backend that answers /i/<n> as told, on a loop of their own
    (hypothesis' examples are plain function calls)."""

    def __init__(self, redis_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.answers: dict[str, Answer] = {}
        self._ids = itertools.count()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._runners: list[web.AppRunner] = []
        self.backend_url, self.gateway_url = self.run(self._start(redis_url))

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    async def _serve(self, app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        answer = self.answers[request.match_info["id"]]
        headers = CIMultiDict(answer.headers)
        if not answer.chunked or answer.status in (204, 304):
            return web.Response(status=answer.status, headers=headers, body=answer.body)
        response = web.StreamResponse(status=answer.status, headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        if request.method == "HEAD":  # aiohttp would send what is written, even to a HEAD
            await response.write_eof()
            return response
        for start in range(0, len(answer.body), 7000):  # several chunks, odd sizes
            await response.write(answer.body[start : start + 7000])
        await response.write_eof()
        return response

    async def _start(self, redis_url: str) -> tuple[str, str]:
        backend = web.Application()
        backend.router.add_get("/i/{id}", self._answer)
        backend_url = await self._serve(backend)
        self.session = aiohttp.ClientSession(auto_decompress=False)
        # The leg being replaced, configured as it was (gateway.app before this change).
        self.old_leg = aiohttp.ClientSession(
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )
        settings = Settings(
            environment="test",
            redis_url=redis_url,
            auth_url="http://127.0.0.1:9",
            billing_url=backend_url,
            pdf_url=backend_url,
            rate_limit_public=10**9,
            log_json=False,
            log_level="ERROR",
            access_log=False,
            metrics_port=0,
        )
        gateway_url = await self._serve(create_app(settings))
        return backend_url, gateway_url

    def add(self, answer: Answer) -> str:
        key = str(next(self._ids))
        self.answers[key] = answer
        return f"/i/{key}"

    async def fetch(
        self, session: aiohttp.ClientSession, method: str, url: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        async with session.request(method, url, allow_redirects=False) as response:
            return response.status, list(response.headers.items()), await response.read()

    async def _stop(self) -> None:
        await self.session.close()
        await self.old_leg.close()
        for runner in reversed(self._runners):
            await runner.cleanup()

    def close(self) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def backend(redis_url: str) -> Iterator[Backend]:
    running = Backend(redis_url)
    yield running
    running.close()


def _upstream_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name.lower(), value) for name, value in headers if name.lower() not in GATEWAY_OWN]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=answers(), method=st.sampled_from(["GET", "HEAD"]))
def test_the_new_leg_relays_what_the_old_one_did(
    backend: Backend, answer: Answer, method: str
) -> None:
    path = backend.add(answer)
    # The old leg: the backend's answer as ClientSession read it, through the old hygiene.
    status, raw, body = backend.run(
        backend.fetch(backend.old_leg, method, backend.backend_url + path)
    )
    expected = _upstream_headers(list(_response_headers(CIMultiDict(raw), {}).items()))
    # The new one: the same answer through the gateway.
    got_status, got_raw, got_body = backend.run(
        backend.fetch(backend.session, method, backend.gateway_url + path)
    )
    assert got_status == status == answer.status
    assert got_body == body == (b"" if method == "HEAD" else answer.body)
    assert _upstream_headers(got_raw) == expected
    sent = [(name.lower(), value) for name, value in answer.headers]
    if not any(name == "content-type" for name, _ in sent):  # aiohttp's default for a body
        expected = [
            pair for pair in expected if pair != ("content-type", "application/octet-stream")
        ]
    assert expected == [pair for pair in sent if pair[0] not in GATEWAY_OWN]
    length = dict((name.lower(), value) for name, value in got_raw).get("content-length")
    if method == "GET" and length is not None:
        assert int(length) == len(answer.body)


class _AnswersOncePerConnection(asyncio.Protocol):
    """A backend that keeps each connection open after its first answer, then closes it
    on the next request without a word: what a keep-alive timeout racing a reuse looks like."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.answered = False

    def data_received(self, data: bytes) -> None:
        if self.answered:
            self.transport.close()
            return
        self.answered = True
        self.transport.write(  # type: ignore[attr-defined]
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
        )


async def test_a_stale_pooled_connection_is_replaced_for_replayable_requests_only():
    from gateway.upstream_http import UpstreamClient, UpstreamProtocolError, request_head

    loop = asyncio.get_running_loop()
    server = await loop.create_server(_AnswersOncePerConnection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = UpstreamClient(limit=4, connect_timeout=1, read_timeout=5)
    get = request_head("GET", "/", [("Host", "backend")])
    post = request_head("POST", "/", [("Host", "backend"), ("Content-Length", "1")])
    try:
        for _ in range(3):  # each reuse meets a closed connection and is sent again
            response = await client.request("127.0.0.1", port, get, None, replayable=True)
            assert (response.status, await response.read()) == (200, b"ok")
        with pytest.raises(UpstreamProtocolError):  # a POST is not sent twice
            await client.request("127.0.0.1", port, post, b"x", replayable=False)
    finally:
        await client.close()
        server.close()


_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"


async def _backend(protocol: Callable[[], asyncio.Protocol]) -> tuple[asyncio.Server, int]:
    """A backend on a port of its own: the server, and its port."""
    server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


class _AnswersFirstRequestOnly(asyncio.Protocol):
    """A backend that answers the first request of each connection and none after it."""

    connections = 0
    closed = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        type(self).connections += 1
        self.transport = transport
        self.answered = False

    def connection_lost(self, exc: Exception | None) -> None:
        type(self).closed += 1

    def data_received(self, data: bytes) -> None:
        if not self.answered:
            self.answered = True
            self.transport.write(_OK)  # type: ignore[attr-defined]


async def test_the_read_timeout_holds_for_every_exchange_of_a_pooled_connection():
    # One timer per connection is carried from exchange to exchange: the second exchange on
    # the same connection is still timed, and a complete answer left unread is not.
    from gateway.upstream_http import UpstreamClient, request_head

    server, port = await _backend(_AnswersFirstRequestOnly)
    client = UpstreamClient(limit=4, connect_timeout=1, read_timeout=0.2)
    get = request_head("GET", "/", [("Host", "backend")])
    try:
        first = await client.request("127.0.0.1", port, get, None, replayable=True)
        assert (first.status, await first.read()) == (200, b"ok")
        with pytest.raises(TimeoutError, match="did not answer in time"):
            async with asyncio.timeout(10):  # (a TimeoutError without that message)
                await client.request("127.0.0.1", port, get, None, replayable=True)
        assert _AnswersFirstRequestOnly.connections == 1  # the second went on the first's
        unread = await client.request("127.0.0.1", port, get, None, replayable=True)
        await asyncio.sleep(0.4)  # twice the read timeout, the answer complete but unread
        assert (unread.status, await unread.read()) == (200, b"ok")
        await asyncio.sleep(0.05)
        # Its connection went back to the pool, open: only the timed-out one was closed.
        assert (_AnswersFirstRequestOnly.connections, _AnswersFirstRequestOnly.closed) == (2, 1)
    finally:
        await client.close()
        server.close()


class _AnswersWholeRequests(asyncio.Protocol):
    """A backend that answers each request once it has all of it (head and body)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.received = b""

    def data_received(self, data: bytes) -> None:
        self.received += data
        while b"\r\n\r\n" in self.received:
            head, _, rest = self.received.partition(b"\r\n\r\n")
            length = next(
                (int(line.split(b":")[1]) for line in head.split(b"\r\n")
                 if line.lower().startswith(b"content-length:")),
                0,
            )  # fmt: skip
            if len(rest) < length:
                return
            self.received = rest[length:]
            self.transport.write(_OK)  # type: ignore[attr-defined]


async def test_a_slow_upload_on_a_reused_connection_is_not_timed_until_it_is_sent():
    # The read timeout times the upstream's silence from the request's end: the timer the
    # connection's last exchange left must not cut an upload that takes longer than it.
    from aiohttp import StreamReader
    from aiohttp.base_protocol import BaseProtocol

    from gateway.upstream_http import UpstreamClient, request_head

    loop = asyncio.get_running_loop()
    server, port = await _backend(_AnswersWholeRequests)
    client = UpstreamClient(limit=4, connect_timeout=1, read_timeout=0.2)
    try:
        get = request_head("GET", "/", [("Host", "backend")])
        first = await client.request("127.0.0.1", port, get, None, replayable=True)
        assert (first.status, await first.read()) == (200, b"ok")
        # A body as aiohttp hands a request's to the proxy: a StreamReader of a connection.
        feeder, protocol = await loop.create_connection(
            lambda: BaseProtocol(loop), "127.0.0.1", port
        )
        body = StreamReader(protocol, 2**16, loop=loop)

        async def trickle() -> None:
            for _ in range(5):  # 0.5 s in all: past the read timeout twice
                await asyncio.sleep(0.1)
                body.feed_data(b"x" * 10)
            body.feed_eof()

        feeding = asyncio.create_task(trickle())
        post = request_head("POST", "/", [("Host", "backend"), ("Content-Length", "50")])
        second = await client.request("127.0.0.1", port, post, body, replayable=False)
        assert (second.status, await second.read()) == (200, b"ok")
        await feeding
        feeder.close()
    finally:
        await client.close()
        server.close()
