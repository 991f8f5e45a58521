"""The proxy's upstream leg: HTTP/1.1 over pooled keep-alive connections, one pool per
upstream address, responses parsed by llhttp (httptools), bodies streamed both ways.

Made for relaying, not for general use: the request head comes ready (the proxy's header
hygiene), the response's headers are handed over as they came, nothing is decompressed,
redirected, or kept between requests but the connection. aiohttp's ClientSession did the
same with a cookie jar, a tracing layer, redirect and auth handling, a ClientRequest and a
ClientResponse per request and a timer per packet: about 35 % of the gateway's CPU.

Timeouts are aiohttp's `connect` and `sock_read`: connecting, and a silence of the upstream
while a response is awaited (not while the client is slow to take it: reading is paused).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import cast

import httptools
from aiohttp import StreamReader
from multidict import CIMultiDict

# A response body's bytes buffered while the client is slower than the upstream: reading
# from the upstream pauses above the high mark and resumes below the low one.
_HIGH_WATER = 256 * 1024
_LOW_WATER = 64 * 1024
# Methods whose request has no body unless one is sent; the others say Content-Length: 0
# when they have none (as aiohttp's client did).
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class UpstreamConnectError(OSError):
    """No connection could be made (refused, unreachable): another address may answer."""


class UpstreamProtocolError(Exception):
    """The upstream broke the exchange: closed early, reset, or sent what is not HTTP."""


class _StaleConnection(UpstreamProtocolError):
    """A pooled connection the upstream had closed: nothing of the request was answered."""


class UpstreamResponse:
    """One response: status and headers at once, the body read whole or streamed."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection
        self._on_done: Callable[[], None] | None = None  # gives the client's slot back
        self.status = 0
        self.raw_headers: list[tuple[str, str]] = []
        # The first Content-Length as a number (None: none, or not a number), set once the
        # headers are in (on_headers_complete reads them in one pass).
        self.content_length: int | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._complete = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    @property
    def headers(self) -> CIMultiDict[str]:
        return CIMultiDict(self.raw_headers)

    async def read(self) -> bytes:
        """The whole body (the proxy reads small ones whole and relays them in one write)."""
        while not self._complete:
            await self._wait()
        body = b"".join(self._chunks)
        self._chunks.clear()
        self.close()
        return body

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._buffered < _LOW_WATER:
                    self._connection.resume_reading()
                yield chunk
            elif self._complete:
                self.close()
                return
            else:
                await self._wait()

    def close(self) -> None:
        """Done with it, read or not: an unfinished exchange costs its connection."""
        self._connection.exchange_done(self)
        on_done, self._on_done = self._on_done, None
        if on_done is not None:
            on_done()

    async def _wait(self) -> None:
        if self._error is not None:
            raise self._error
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None
        if self._error is not None:
            raise self._error

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # Fed by the connection.
    def add_chunk(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered >= _HIGH_WATER:
            self._connection.pause_reading()
        self._wake()

    def finish(self) -> None:
        self._complete = True
        self._wake()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._wake()


def _framing(raw_headers: list[tuple[str, str]]) -> tuple[int | None, bool, bool]:
    """What the headers say of the body and the connection, in one pass: the first
    Content-Length as a number, whether a Transfer-Encoding came, whether a Connection
    header says close."""
    length: int | None = None
    length_seen = chunked = close = False
    for name, value in raw_headers:
        lower = name.lower()
        if lower == "content-length":
            if not length_seen:
                length_seen = True
                length = int(value) if value.isdigit() else None
        elif lower == "transfer-encoding":
            chunked = True
        elif lower == "connection" and "close" in value.lower():
            close = True
    return length, chunked, close


class _Connection(asyncio.Protocol):
    """One keep-alive connection to an upstream, one exchange at a time (no pipelining)."""

    def __init__(self, pool: _AddressPool) -> None:
        self._pool = pool
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self.closed = False
        self.used = False  # has served an exchange: may have gone stale in the pool
        self._reusable = True
        self._paused = False
        self._drain: asyncio.Future[None] | None = None
        # The exchange in progress.
        self._head_only = False
        self._response: UpstreamResponse | None = None
        self._headers_ready: asyncio.Future[UpstreamResponse] | None = None
        self._received = False  # any byte of the response arrived
        self._parser: httptools.HttpResponseParser | None = None
        self._last_read = 0.0
        self._read_timer: asyncio.TimerHandle | None = None
        self._sending = False  # the request's body is still going out: nothing is awaited
        self._eof_ends_body = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._received = True
        self._last_read = self._loop.time()
        if self._parser is None:  # nothing asked: an upstream speaking out of turn
            self._close()
            return
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as error:
            self._fail(UpstreamProtocolError(f"invalid response: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool.forget(self)
        self._stop_read_timer()
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)  # the body's writer sees `closed` and stops
        response = self._response
        if response is not None and self._headers_ready is None and self._eof_ends_body:
            response.finish()  # neither length nor chunks: the body ends with the connection
            self._end_exchange(reusable=False)
        elif self._response is not None or self._headers_ready is not None:
            stale = self.used and not self._received
            error = (_StaleConnection if stale else UpstreamProtocolError)(
                "upstream closed the connection"
            )
            self._fail(error)

    def pause_writing(self) -> None:
        self._drain = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        self._drain = None

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        assert self._response is not None
        self._response.raw_headers.append(
            (name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
        )

    def on_headers_complete(self) -> None:
        assert self._parser is not None and self._response is not None
        status = self._parser.get_status_code()
        if status < 200:  # 100 Continue and the like: the final answer follows
            self._response.raw_headers.clear()
            return
        response = self._response
        response.status = status
        length, chunked, close = _framing(response.raw_headers)
        response.content_length = length
        self._eof_ends_body = length is None and not chunked and status not in (204, 304)
        if self._head_only:  # llhttp would wait for the body a GET would have had
            self._eof_ends_body = False
            if self._parser.get_http_version() != "1.1" or close:
                self._reusable = False
        elif self._eof_ends_body:
            self._reusable = False
        waiter, self._headers_ready = self._headers_ready, None
        if waiter is not None and not waiter.done():
            waiter.set_result(self._response)
        if self._head_only:  # llhttp does not know it was HEAD: no body comes
            self._message_complete()

    def on_body(self, body: bytes) -> None:
        if self._head_only:  # a body to a HEAD: the connection is out of step
            self._reusable = False
            return
        if self._response is not None:
            self._response.add_chunk(body)

    def on_message_complete(self) -> None:
        if self._response is not None and self._response.status >= 200 and not self._head_only:
            self._message_complete()

    # The exchange
    async def exchange(
        self, head: bytes, body: bytes | StreamReader | None, read_timeout: float
    ) -> UpstreamResponse:
        """Send the request; the response once its headers are in. Whatever interrupts it
        (the client gone, a failure) costs the connection: it is out of step."""
        assert self._transport is not None
        response = self._response = UpstreamResponse(self)
        headers_ready: asyncio.Future[UpstreamResponse] = self._loop.create_future()
        self._headers_ready = headers_ready
        self._parser = httptools.HttpResponseParser(self)
        self._head_only = head.startswith(b"HEAD ")
        self._received = False
        self._eof_ends_body = False
        try:
            if isinstance(body, bytes):
                self._transport.write(head + body)
            else:
                self._transport.write(head)
                if body is not None:
                    self._sending = True
                    await self._stream_body(body)
                    self._sending = False
            # sock_read: from the request's end, the upstream's silences are timed. A timer
            # left by the connection's last exchange is due earlier: when it fires it finds
            # this exchange under way and re-arms itself for this one's due time (a timer
            # made and cancelled per request cost more than the rest of the exchange's
            # bookkeeping together).
            self._last_read = self._loop.time()
            if self._read_timer is None:
                self._read_timer = self._loop.call_at(
                    self._last_read + read_timeout, self._check_read, read_timeout
                )
            return await headers_ready
        except BaseException:
            if self._response is response:
                self._close()
            raise

    async def _stream_body(self, body: StreamReader) -> None:
        assert self._transport is not None
        async for chunk in body.iter_any():
            if self.closed:
                return  # the answer (or the failure) is already on its way
            self._transport.write(chunk)
            if self._drain is not None:
                await self._drain

    def _check_read(self, read_timeout: float) -> None:
        """sock_read: the upstream silent for read_timeout while we wait on it."""
        self._read_timer = None
        if self._response is None or self._response._complete:
            return  # nothing more to read: the next exchange arms a timer anew
        now = self._loop.time()
        # The client is slow, not the upstream (paused), or the request is not all sent (a
        # timer left by the last exchange): the upstream's silence starts later.
        if self._paused or self._sending:
            self._last_read = now
        due = self._last_read + read_timeout
        if due > now:  # data came meanwhile: one timer re-armed, not one per packet
            self._read_timer = self._loop.call_at(due, self._check_read, read_timeout)
            return
        self._fail(TimeoutError("the upstream did not answer in time"))

    def _message_complete(self) -> None:
        response = self._response
        assert response is not None and self._parser is not None
        if not self._parser.should_keep_alive() and not self._head_only:
            self._reusable = False
        response.finish()  # the read timer stays armed (see exchange)

    def exchange_done(self, response: UpstreamResponse) -> None:
        """The consumer is done with the response: back to the pool if it was all read."""
        if response is not self._response:
            return  # ended already (failed, or the body ended with the connection)
        self._end_exchange(reusable=response._complete and self._reusable)

    def _end_exchange(self, *, reusable: bool) -> None:
        self._response = None
        self._headers_ready = None
        self._parser = None
        self.used = True
        if self._paused:
            self.resume_reading()
        if reusable and not self.closed:
            self._pool.release(self)
        else:
            self._close()

    def _fail(self, error: BaseException) -> None:
        waiter, self._headers_ready = self._headers_ready, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        if self._response is not None:
            self._response.fail(error)
            self._response = None
        self._close()

    def pause_reading(self) -> None:
        if not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()

    def _stop_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _close(self) -> None:
        self._reusable = False
        self._stop_read_timer()
        if self._transport is not None and not self.closed:
            self._transport.close()
        self.closed = True
        self._pool.forget(self)


class _AddressPool:
    """The idle connections to one address, the most recently used first out."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[_Connection, float]] = []

    def take(self, now: float, keepalive: float) -> _Connection | None:
        while self.idle:
            connection, since = self.idle.pop()
            if not connection.closed and now - since < keepalive:
                return connection
            connection._close()
        return None

    def release(self, connection: _Connection) -> None:
        self.idle.append((connection, asyncio.get_running_loop().time()))

    def forget(self, connection: _Connection) -> None:
        for index, (idle, _) in enumerate(self.idle):
            if idle is connection:
                del self.idle[index]
                return

    def close_idle(self, older_than: float) -> None:
        keep = [(c, since) for c, since in self.idle if since >= older_than and not c.closed]
        for connection, since in self.idle:
            if since < older_than:
                connection._close()
        self.idle = keep


class UpstreamClient:
    """Requests to upstream addresses over pooled keep-alive connections; at most `limit`
    exchanges at a time (the others wait for one to end)."""

    def __init__(
        self,
        *,
        limit: int,
        connect_timeout: float,
        read_timeout: float,
        keepalive_timeout: float = 30.0,
    ) -> None:
        self._pools: dict[tuple[str, int], _AddressPool] = {}
        self._slots = asyncio.Semaphore(limit)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._keepalive = keepalive_timeout

    async def request(
        self,
        address: str,
        port: int,
        head: bytes,
        body: bytes | StreamReader | None,
        *,
        replayable: bool,
    ) -> UpstreamResponse:
        """Send `head` (the request line and headers) and `body`; the response once its
        headers are in. A pooled connection found closed by the upstream is replaced once when
        the request can be sent again (`replayable`: idempotent, body not streamed)."""
        pool = self._pools.get((address, port))
        if pool is None:
            pool = self._pools[(address, port)] = _AddressPool(address, port)
        await self._slots.acquire()
        try:
            response = await self._exchange(pool, head, body, replayable)
        except BaseException:
            self._slots.release()
            raise
        response._on_done = self._slots.release
        return response

    async def _exchange(
        self,
        pool: _AddressPool,
        head: bytes,
        body: bytes | StreamReader | None,
        replayable: bool,
    ) -> UpstreamResponse:
        connection = pool.take(asyncio.get_running_loop().time(), self._keepalive)
        if connection is not None:
            try:
                return await connection.exchange(head, body, self._read_timeout)
            except _StaleConnection:
                if not replayable:
                    raise
        connection = await self._connect(pool)
        return await connection.exchange(head, body, self._read_timeout)

    async def _connect(self, pool: _AddressPool) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: _Connection(pool), pool.host, pool.port
                )
        except OSError as error:
            raise UpstreamConnectError(str(error)) from None
        return protocol

    def prune(self, live: set[tuple[str, int]]) -> None:
        """Close what idled past the keep-alive time, and the pools of addresses gone."""
        older_than = asyncio.get_running_loop().time() - self._keepalive
        for key, pool in list(self._pools.items()):
            pool.close_idle(older_than if key in live else float("inf"))
            if key not in live and not pool.idle:
                del self._pools[key]

    async def close(self) -> None:
        for pool in self._pools.values():
            pool.close_idle(float("inf"))
        self._pools.clear()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)  # let the transports close


def request_head(method: str, target: str, headers: list[tuple[str, str]]) -> bytes:
    """The request line and headers; a name or value with a line break is refused (it would
    smuggle a header or a second request to the upstream)."""
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    for name, value in headers:
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
            raise ValueError(f"line break in the {name!r} header")
        lines.append(f"{name}: {value}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


def needs_zero_length(method: str) -> bool:
    """A request of this method without a body says Content-Length: 0."""
    return method not in _BODILESS
