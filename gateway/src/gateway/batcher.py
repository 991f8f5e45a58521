"""Coalesces the guard's script calls of concurrent requests into one call per round trip.

Requests that arrive in the same event-loop turn, or while a call is in flight, go out
together as one EVALSHA of the script (shared/ratelimit.py decides a batch of requests in
one call) on RedisPipe's one connection: under load one round trip and one script call
serve many requests, and at low load a lone request still costs exactly one EVALSHA.

A request's key and record (its route's policies and its client's) repeat from request to
request: they are packed into RESP once and kept (a bounded table), and a record shared by
requests of one call goes in it once. A record that does not repeat (`repeats=False`: one
storing a fresh identity) is packed each time, not kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError

from gateway.redis_pipe import RedisPipe, pack_argument
from shared.ids import unique_id

# A request in a batch: its key and its record packed in RESP, the record's argument count,
# and its caller's answer.
Call = tuple[bytes, bytes, int, "asyncio.Future[Any]"]
# Packed (key, record) kept at most: clients times routes' policies in use.
_PACKED_KEPT = 4096


class ScriptBatcher:
    def __init__(
        self,
        pipe: RedisPipe,
        script: str,
        *,
        registry: CollectorRegistry,
        max_batch: int = 64,
        max_inflight: int = 4,
    ) -> None:
        self._pipe = pipe
        self._script = script
        self._sha = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
        self._packed: dict[tuple[str, tuple[str | int, ...]], tuple[bytes, bytes]] = {}
        self._evalsha = pack_argument("EVALSHA") + pack_argument(self._sha)
        self._max_batch = max_batch
        self._max_inflight = max_inflight
        self._pending: list[Call] = []
        self._inflight = 0
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._round_trips = Counter(
            "gateway_redis_round_trips_total",
            "Round trips to Redis made by the guard (pipelines count once)",
            registry=registry,
        )
        self._script_calls = Counter(
            "gateway_redis_script_calls_total",
            "Requests the guard's script decided (a batch of them per call)",
            registry=registry,
        )

    async def __call__(self, key: str, record: list[str | int], *, repeats: bool = True) -> Any:
        """The script's reply for one request: `key` its identity cache key ('' for none),
        `record` its arguments (shared.ratelimit.script_record)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        packed_key, packed_record = (
            self._packed_call(key, record) if repeats else _pack(key, record)
        )
        self._pending.append((packed_key, packed_record, len(record), future))
        self._schedule(loop)
        return await future

    def _packed_call(self, key: str, record: list[str | int]) -> tuple[bytes, bytes]:
        repeated = (key, tuple(record))
        packed = self._packed.get(repeated)
        if packed is None:
            if len(self._packed) >= _PACKED_KEPT:
                self._packed.clear()
            packed = self._packed[repeated] = _pack(key, record)
        return packed

    def _command(self, batch: list[Call]) -> bytes:
        """One EVALSHA deciding the whole batch, in RESP: its keys, a prefix unique to the
        call (the requests' log entries), each distinct record once (the requests of one
        client on one route share theirs), then each request's record number."""
        numbers: dict[bytes, bytes] = {}
        arguments = 5 + 2 * len(batch)
        for _, record, count, _ in batch:
            if record not in numbers:
                numbers[record] = pack_argument(len(numbers) + 1)
                arguments += count
        return b"".join(
            (
                b"*%d\r\n" % arguments,
                self._evalsha,
                pack_argument(len(batch)),
                *(key for key, _, _, _ in batch),
                pack_argument(unique_id()),
                pack_argument(len(numbers)),
                *numbers,
                *(numbers[record] for _, record, _, _ in batch),
            )
        )

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._scheduled and self._inflight < self._max_inflight:
            self._scheduled = True
            loop.call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._scheduled = False
        while self._pending and self._inflight < self._max_inflight:
            batch = self._pending[: self._max_batch]
            del self._pending[: len(batch)]
            self._inflight += 1
            task = asyncio.create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[Call]) -> None:
        try:
            results = await self._execute(batch)
        except Exception as exc:  # every waiter sees the failure and falls back
            results = [exc] * len(batch)
        finally:
            self._inflight -= 1
            if self._pending:
                self._schedule(asyncio.get_running_loop())
        for (*_, future), result in zip(batch, results, strict=True):
            if future.done():  # the client went away meanwhile
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _execute(self, batch: list[Call]) -> list[Any]:
        """Each request's reply, or the call's error in every place."""
        command = self._command(batch)
        try:
            reply = await self._execute_once(command, len(batch))
        except RedisConnectionError:
            # A pooled connection went stale (Redis restarted): the pool reconnects, try once more.
            reply = await self._execute_once(command, len(batch))
        if isinstance(reply, RedisError):  # an error answers for every request of the call
            return [reply] * len(batch)
        replies: list[Any] = reply
        return replies

    async def _execute_once(self, command: bytes, requests: int) -> Any:
        self._round_trips.inc()
        self._script_calls.inc(requests)
        (reply,) = await self._pipe.execute([command])
        if isinstance(reply, NoScriptError):
            await self._load()  # Redis restarted or flushed its scripts
            (reply,) = await self._pipe.execute([command])
        return reply

    async def _load(self) -> None:
        self._round_trips.inc()
        (loaded,) = await self._pipe.execute([("SCRIPT", "LOAD", self._script)])
        if isinstance(loaded, RedisError):
            raise loaded


def _pack(key: str, record: list[str | int]) -> tuple[bytes, bytes]:
    return pack_argument(key), b"".join(map(pack_argument, record))
