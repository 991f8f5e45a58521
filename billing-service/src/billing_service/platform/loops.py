"""Background loops (the mailer, the scheduler): a pass every interval, for as long as the
service runs.

A loop outlives anything a pass raises. Each loop isolates its rows itself (one transaction
and a savepoint per row, the failure recorded on the row); whatever still escapes a pass (the
database gone, a bug) is logged and the next pass runs after the interval. `stop` ends a loop
between rows: a pass asks its loop's `stop_requested()` (the `LoopContext` given to its
`run_once`) before taking its next row, and only a row that
outlasts the stop's bound is cancelled (its transaction rolls back; another replica takes it). Its health (the time of its last completed pass) feeds /readyz, its passes and
rows feed /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg
from prometheus_client import CollectorRegistry, Counter

from shared.logging import get_logger

log = get_logger("billing.loops")

DONE, FAILED, DEFERRED = "done", "failed", "deferred"

# A pass may include a slow row (an SMTP delivery times out after 15 s, a PDF render after
# 30 s), so a loop is never called stalled sooner than this, however short its interval.
MIN_STALE_SECONDS = 60.0
ERROR_TEXT_LIMIT = 200


class LoopStalled(Exception):
    """Reported by /readyz: the loop ended, or has not completed a pass for too long."""


class LoopMetrics:
    """The loops' passes and rows, on the app's metrics registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.passes = Counter(
            "billing_loop_passes",
            "Completed passes of a background loop",
            ["loop"],
            registry=registry,
        )
        self.rows = Counter(
            "billing_loop_rows",
            "Rows a background loop handled, by outcome",
            ["loop", "outcome"],
            registry=registry,
        )


class LoopContext(Protocol):
    """What a pass asks of the loop running it (given to `run_once`): where a row's outcome
    is counted, and whether to take another row."""

    def count_row(self, outcome: str) -> None: ...

    def stop_requested(self) -> bool: ...


class ByHand:
    """A pass driven by hand (a test, a one-off run): nothing counts it, nothing stops it."""

    def count_row(self, outcome: str) -> None:
        pass

    def stop_requested(self) -> bool:
        return False


BY_HAND = ByHand()


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... at most an hour between tries."""
    return timedelta(seconds=min(30 * 2 ** (min(attempts, 20) - 1), 3600))


def next_attempt(attempts: int, max_attempts: int, now: datetime) -> datetime | None:
    """When a row that has failed `attempts` times is tried again; None: never (give up)."""
    return None if attempts >= max_attempts else now + backoff(attempts)


def single_line(text: str) -> str:
    """Control characters and line separators folded to spaces: safe for a header or a log."""
    return "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in text
    ).strip()


def describe(error: BaseException) -> str:
    """What is recorded about a row's failure: its type and a short one-line message (never a
    traceback or the values around it)."""
    message = single_line(str(error))
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text[:ERROR_TEXT_LIMIT]


class BackgroundLoop:
    def __init__(
        self,
        name: str,
        run_pass: Callable[[LoopContext], Awaitable[object]],
        interval: float,
        stale_intervals: float,
        *,
        metrics: LoopMetrics,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.metrics = metrics
        self.run_pass = run_pass
        self.interval = interval
        self.stale_after = max(interval * stale_intervals, MIN_STALE_SECONDS)
        self.monotonic = monotonic
        self.last_pass = monotonic()  # the first pass gets the same grace as every other
        self.task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()
        self.nudged = asyncio.Event()  # ends the current interval early (a stop, new work)

    def start(self) -> None:
        self.last_pass = self.monotonic()
        self.task = asyncio.create_task(self.run_forever(), name=f"loop-{self.name}")

    async def stop(self, bound: float) -> None:
        """Ends the loop once its current row is done; a row still running after `bound`
        seconds is cancelled."""
        if self.task is None:
            return
        self.stopping.set()
        self.nudged.set()
        done, _ = await asyncio.wait({self.task}, timeout=bound)
        if not done:
            log.warning("loop_stop_timed_out", loop=self.name, bound=bound)
            self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def run_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                await self.run_pass(self)
            except Exception:  # never the end of the loop: the next pass may well succeed
                log.warning("loop_pass_failed", loop=self.name, exc_info=True)
            else:
                self.last_pass = self.monotonic()
                self.metrics.passes.labels(self.name).inc()
            with contextlib.suppress(TimeoutError):  # the interval, cut short by a nudge
                await asyncio.wait_for(self.nudged.wait(), self.interval)
            self.nudged.clear()

    def count_row(self, outcome: str) -> None:
        self.metrics.rows.labels(self.name, outcome).inc()

    def stop_requested(self) -> bool:
        return self.stopping.is_set()

    def wake(self) -> None:
        """New work is waiting: the next pass starts now, not at the end of the interval (a
        wake during a pass makes another pass follow it at once)."""
        self.nudged.set()

    def check(self) -> None:
        """A readiness check: fails when the loop has ended or stopped completing passes."""
        if self.task is not None and self.task.done():
            raise LoopStalled(f"the {self.name} loop has ended")
        if self.monotonic() - self.last_pass > self.stale_after:
            raise LoopStalled(f"the {self.name} loop has not completed a pass recently")


class Notifications:
    """Wakes loops when PostgreSQL notifies their channel, which whoever queues their work does
    at commit (`pg_notify`), so a webhook leaves within milliseconds of its change rather than
    at the next interval. Only a shortcut: while the listening connection is lost (it is opened
    again after RECONNECT_SECONDS), the loops run on their intervals as before."""

    RECONNECT_SECONDS = 2.0

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.loops: dict[str, BackgroundLoop] = {}
        self.task: asyncio.Task[None] | None = None

    def subscribe(self, channel: str, loop: BackgroundLoop) -> None:
        self.loops[channel] = loop

    def start(self) -> None:
        self.task = asyncio.create_task(self._listen_forever(), name="loop-notifications")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except Exception as error:  # never the end of listening: the next connection may hold
                log.warning("notifications_lost", error=describe(error))
            await asyncio.sleep(self.RECONNECT_SECONDS)

    async def _listen(self) -> None:
        """Until the connection is lost."""
        conn = await asyncpg.connect(self.dsn)
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _: lost.set())
            for channel, loop in self.loops.items():
                await conn.add_listener(channel, _waker(loop))
            await lost.wait()
        finally:
            if not conn.is_closed():
                await conn.close()


def _waker(loop: BackgroundLoop) -> Callable[..., None]:
    def wake(*_: object) -> None:  # (connection, pid, channel, payload): only the fact counts
        loop.wake()

    return wake
