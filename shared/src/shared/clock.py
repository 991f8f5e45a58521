"""The current instant, injected: code asks the app's clock instead of calling datetime.now,
so tests can stand at any moment (and move time) without patching."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web

Clock = Callable[[], datetime]  # the current instant, timezone-aware (UTC)


def system_clock() -> datetime:
    return datetime.now(UTC)


CLOCK: web.AppKey[Clock] = web.AppKey("clock")
