"""The guard's line to Redis: one connection, commands pipelined on it, replies parsed by
hiredis and matched to their callers in order.

redis-py's pipeline took ~10 % of the gateway's CPU for what is here a write of packed
commands and a read of their replies: a Pipeline object and a pooled connection checked out
per batch, its command stack, its response callbacks. Failures are redis-py's exceptions
(ConnectionError, TimeoutError, NoScriptError, ResponseError), so the guard's fallback and the
batcher's reload of the script see what they saw before. A reply not in within `timeout`
costs the connection (later replies would be out of step); the next call connects again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ssl
from collections.abc import Sequence
from typing import Any, cast

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from yarl import URL

Command = tuple[str | int | bytes, ...]
NAME = "gateway-guard"


def pack(command: Command, *, length: int | None = None) -> bytes:
    """One command in RESP: an array of bulk strings. With `length`, the start of one of
    that many (its other arguments packed by pack_argument follow)."""
    header = b"*%d\r\n" % (len(command) if length is None else length)
    return b"".join([header, *map(pack_argument, command)])


def pack_argument(argument: str | int | bytes) -> bytes:
    """One argument of a command, a bulk string in RESP."""
    data = argument if isinstance(argument, bytes) else str(argument).encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def _error(reply: hiredis.ReplyError) -> ResponseError:
    message = str(reply)
    return NoScriptError(message) if message.startswith("NOSCRIPT") else ResponseError(message)


def _retrieve(futures: list[asyncio.Future[Any]]) -> None:
    """The failures of a batch's other replies are seen here (asyncio would log them)."""
    for future in futures:
        if future.done() and not future.cancelled():
            future.exception()


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self._reader = hiredis.Reader()
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            if not self.waiting:  # a reply nobody asked for: out of step
                self.fail(RedisConnectionError("unexpected reply from Redis"))
                return
            future = self.waiting.popleft()
            if not future.done():
                future.set_result(_error(reply) if isinstance(reply, hiredis.ReplyError) else reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(RedisConnectionError("Redis closed the connection"))

    def fail(self, error: RedisError) -> None:
        self.lost = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.close()


class RedisPipe:
    """Commands to one Redis over one pipelined connection (see the module's docstring)."""

    def __init__(self, url: str, *, timeout: float) -> None:
        parsed = URL(url)
        self._host = parsed.host or "localhost"
        self._port = parsed.port or 6379
        self._ssl = ssl.create_default_context() if parsed.scheme == "rediss" else None
        # Named, so CLIENT LIST tells the guard's connection from the others.
        self._hello: list[Command] = [("CLIENT", "SETNAME", NAME)]
        if parsed.password:
            user = (parsed.user,) if parsed.user else ()
            self._hello.insert(0, ("AUTH", *user, parsed.password))
        database = parsed.path.strip("/") or parsed.query.get("db", "0")
        if int(database):
            self._hello.append(("SELECT", int(database)))
        self._timeout = timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def execute(self, commands: Sequence[Command | bytes]) -> list[Any]:
        """Each command's reply, or its error (a ResponseError instance) in its place;
        raises ConnectionError or TimeoutError when Redis does not answer. A command is its
        arguments, or bytes already packed (pack)."""
        protocol = await self._connected()
        data = b"".join(
            command if isinstance(command, bytes) else pack(command) for command in commands
        )
        futures = self._send(protocol, data, len(commands))
        try:
            async with asyncio.timeout(self._timeout):
                await futures[-1]  # replies come in order: the last one in, all are
        except TimeoutError:
            protocol.fail(RedisTimeoutError("Redis did not answer in time"))
            _retrieve(futures)
            raise RedisTimeoutError("Redis did not answer in time") from None
        except RedisError:
            _retrieve(futures)
            raise
        return [future.result() for future in futures]

    async def _connected(self) -> _Protocol:
        protocol = self._protocol
        if protocol is not None and not protocol.lost:
            return protocol
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:  # one connection, however many callers find none
            if self._protocol is None or self._protocol.lost:
                self._protocol = await self._connect()
            return self._protocol

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                _, protocol = await loop.create_connection(
                    _Protocol, self._host, self._port, ssl=self._ssl
                )
                if self._hello:  # always: the name at least
                    hello = b"".join(pack(command) for command in self._hello)
                    replies = self._send(protocol, hello, len(self._hello))
                    await replies[-1]
                    for reply in (future.result() for future in replies):
                        if isinstance(reply, ResponseError):
                            protocol.fail(RedisConnectionError(str(reply)))
                            raise RedisConnectionError(f"Redis refused the connection: {reply}")
        except TimeoutError:
            raise RedisTimeoutError("Redis did not answer in time") from None
        except OSError as error:
            raise RedisConnectionError(f"Redis unreachable: {error}") from None
        return protocol

    @staticmethod
    def _send(protocol: _Protocol, data: bytes, count: int) -> list[asyncio.Future[Any]]:
        if protocol.lost or protocol.transport is None:
            raise RedisConnectionError("Redis connection lost")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in range(count)]
        protocol.waiting.extend(futures)
        protocol.transport.write(data)
        return futures

    async def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)
