"""Coalesces the Redis script calls of concurrent requests into pipelined round trips.

Requests that arrive in the same event-loop turn, or while a pipeline is in flight, go out
together as one pipeline (on RedisPipe's one connection): under load one round trip serves
many requests, and at low load a lone request still costs exactly one EVALSHA.

A call's arguments are its own first one (the rate-limit log's member, new per request),
then the route's policies and the client's, which repeat from request to request: those are
packed into RESP once and kept (a bounded table), with the keys. A call whose arguments
do not repeat (`repeats=False`: one storing a fresh identity) is packed whole, not kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError

from gateway.redis_pipe import RedisPipe, pack, pack_argument

Call = tuple[bytes, "asyncio.Future[Any]"]  # the packed EVALSHA, its caller's answer
# Packed (keys, repeated arguments) kept at most: clients times routes' policies in use.
_PACKED_KEPT = 4096


class ScriptBatcher:
    def __init__(
        self,
        pipe: RedisPipe,
        script: str,
        *,
        registry: CollectorRegistry,
        max_batch: int = 256,
        max_inflight: int = 4,
    ) -> None:
        self._pipe = pipe
        self._script = script
        self._sha = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
        self._packed: dict[tuple[tuple[str, ...], tuple[str | int, ...]], tuple[bytes, bytes]] = {}
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
            "gateway_redis_script_calls_total", "Guard script evaluations", registry=registry
        )

    async def __call__(
        self, keys: list[str], args: list[str | int], *, repeats: bool = True
    ) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        command = (
            self._command(keys, args)
            if repeats
            else pack(("EVALSHA", self._sha, len(keys), *keys, *args))
        )
        self._pending.append((command, future))
        self._schedule(loop)
        return await future

    def _command(self, keys: list[str], args: list[str | int]) -> bytes:
        """EVALSHA of the script with `keys` and `args`, in RESP."""
        repeated = (tuple(keys), tuple(args[1:]))
        parts = self._packed.get(repeated)
        if parts is None:
            if len(self._packed) >= _PACKED_KEPT:
                self._packed.clear()
            command: tuple[str | int, ...] = ("EVALSHA", self._sha, len(keys), *keys)
            head = pack(command, length=len(command) + len(args))
            parts = self._packed[repeated] = (head, b"".join(map(pack_argument, args[1:])))
        head, tail = parts
        return b"".join((head, pack_argument(args[0]), tail))

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
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # the client went away meanwhile
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _execute(self, batch: list[Call]) -> list[Any]:
        try:
            return await self._execute_once(batch)
        except RedisConnectionError:
            # A pooled connection went stale (Redis restarted): the pool reconnects, try once more.
            return await self._execute_once(batch)

    async def _execute_once(self, batch: list[Call]) -> list[Any]:
        self._round_trips.inc()
        self._script_calls.inc(len(batch))
        commands = [command for command, _ in batch]
        results = await self._pipe.execute(commands)
        if any(isinstance(result, NoScriptError) for result in results):
            await self._load()  # Redis restarted or flushed its scripts
            results = await self._pipe.execute(commands)
        return results

    async def _load(self) -> None:
        self._round_trips.inc()
        (loaded,) = await self._pipe.execute([("SCRIPT", "LOAD", self._script)])
        if isinstance(loaded, RedisError):
            raise loaded
