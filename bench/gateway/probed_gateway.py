"""The gateway with two probes, for the tail investigation (bench/gateway/tail.py): every
garbage-collector pass and every event-loop stall of PROBE_MS or more, with its time, written
to PROBE_OUT (JSON lines) as they happen. The gateway itself is `python -m gateway`'s."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from gateway.app import create_app
from gateway.settings import Settings
from shared.web import run

OUT = open(os.environ["PROBE_OUT"], "a", buffering=1)  # noqa: SIM115 - open for the process
SLOW = float(os.environ.get("PROBE_MS", "1")) / 1000
TICK = 0.002  # the loop-stall probe wakes this often; a stall is a wake-up this much late
_gc_started = 0.0


def _note(kind: str, seconds: float, **extra: Any) -> None:
    OUT.write(json.dumps({"t": time.time(), "kind": kind, "ms": seconds * 1000, **extra}) + "\n")


def _on_gc(phase: str, info: dict[str, int]) -> None:
    global _gc_started
    if phase == "start":
        _gc_started = time.perf_counter()
        return
    _note("gc", time.perf_counter() - _gc_started, generation=info["generation"])


async def _stalls(app: web.Application) -> AsyncIterator[None]:
    async def watch() -> None:
        while True:
            before, ran_before = time.perf_counter(), time.thread_time()
            await asyncio.sleep(TICK)
            late = time.perf_counter() - before - TICK
            if late >= SLOW:
                # The loop's thread's CPU time meanwhile: work in the process (~ the whole
                # stall) or none (it waited for a core, or in a system call).
                _note("stall", late, ran_ms=(time.thread_time() - ran_before) * 1000)

    task = asyncio.create_task(watch())
    yield
    task.cancel()


def probed_app(settings: Settings) -> web.Application:
    app = create_app(settings)
    app.cleanup_ctx.append(_stalls)
    return app


if __name__ == "__main__":
    gc.callbacks.append(_on_gc)
    settings = Settings()
    run(lambda: probed_app(settings), settings)
