"""The background loops on their own (no database): a loop outlives what a pass raises, and
a stop lets the current row finish, takes no other and cancels only a row outlasting its
bound. The loops of a running service are tested in tests/platform/test_loops.py."""

from __future__ import annotations

import asyncio

import asyncpg
from prometheus_client import CollectorRegistry

from billing_service.platform.loops import BackgroundLoop, LoopContext, LoopMetrics

WAIT = 30  # seconds: an upper bound for the loops to get there, never a timing assertion


async def test_a_loop_outlives_whatever_a_pass_raises():
    raised = [ValueError("bad header"), OverflowError("date value out of range")]
    raised.append(asyncpg.PostgresError("connection lost"))
    failing = len(raised)
    calls, finished = 0, asyncio.Event()

    async def run_pass(_: LoopContext) -> None:
        nonlocal calls
        calls += 1
        if raised:
            raise raised.pop(0)
        if calls >= 5:
            finished.set()

    registry = CollectorRegistry()
    loop = BackgroundLoop(
        "test", run_pass, interval=0, stale_intervals=1, metrics=LoopMetrics(registry)
    )
    loop.start()
    try:
        await asyncio.wait_for(finished.wait(), WAIT)
        assert loop.task is not None and not loop.task.done()
        loop.check()  # passes completed since: ready
    finally:
        await loop.stop(bound=WAIT)
    assert loop.task.done() and not loop.task.cancelled()  # only its stop ends it
    passes = registry.get_sample_value("billing_loop_passes_total", {"loop": "test"})
    assert 1 <= passes <= calls - failing  # failed passes are not counted


class Rows:
    """A pass over rows as the services write one: it asks its loop's `stop_requested()` before each
    row. Row 1 waits for `release`; every row handled is recorded when it ends."""

    def __init__(self) -> None:
        self.started, self.release, self.finished = (
            asyncio.Event(),
            asyncio.Event(),
            asyncio.Event(),
        )
        self.handled: list[int] = []

    async def run_pass(self, loop: LoopContext) -> None:
        for row in (1, 2, 3):
            if loop.stop_requested():
                return
            self.started.set()
            if row == 1:
                await self.release.wait()
            self.handled.append(row)
        self.finished.set()

    def loop(self) -> BackgroundLoop:
        metrics = LoopMetrics(CollectorRegistry())
        return BackgroundLoop("rows", self.run_pass, 3600, 1, metrics=metrics)


async def test_a_stopping_loop_finishes_its_current_row_and_takes_no_other():
    rows = Rows()
    loop = rows.loop()
    loop.start()
    await asyncio.wait_for(rows.started.wait(), WAIT)
    stopping = asyncio.create_task(loop.stop(bound=WAIT))
    await asyncio.sleep(0)  # the stop is asked while row 1 is in progress
    assert not stopping.done()
    rows.release.set()
    await asyncio.wait_for(stopping, WAIT)
    assert rows.handled == [1]  # row 1 completed, rows 2 and 3 left for the next replica
    assert loop.task is not None and not loop.task.cancelled()


async def test_a_row_outlasting_the_stop_bound_is_cancelled():
    rows = Rows()
    loop = rows.loop()
    loop.start()
    await asyncio.wait_for(rows.started.wait(), WAIT)
    await loop.stop(bound=0.01)  # row 1 never finishes on its own
    assert loop.task is not None and loop.task.cancelled()
    assert rows.handled == []


async def test_a_loop_between_passes_stops_at_once():
    rows = Rows()
    rows.release.set()
    loop = rows.loop()  # an hour between passes
    loop.start()
    async with asyncio.timeout(WAIT):
        await rows.finished.wait()
        await loop.stop(bound=3600)  # the interval is cut short, not waited out
    assert rows.handled == [1, 2, 3]
    assert loop.task is not None and not loop.task.cancelled()
