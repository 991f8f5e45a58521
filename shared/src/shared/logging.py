"""Structured JSON logging with structlog. Secrets never reach a log line."""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import sys
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import structlog

_REDACTED_KEYS = frozenset(
    {"authorization", "token", "password", "secret", "identity_jwt", "jwt", "cookie"}
)


def _redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event.keys() & _REDACTED_KEYS:
        event[key] = "[redacted]"
    return event


# Whether request lines are written follows the configured level, which the standard library
# keeps (its named loggers), not a flag of this module.
_ACCESS = logging.getLogger("shared.access")


def configure_logging(service: str, level: str = "INFO", json_output: bool = True) -> None:
    """Logging is configured per process (structlog's and the standard library's settings are
    process-wide by design): calling this again, as each app factory does, sets the same
    things again, and the last call's level and format win."""
    _ACCESS.setLevel(level.upper())
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_current_stdout_logger,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # aiohttp's own access log duplicates ours and would print raw request lines.
    logging.getLogger("aiohttp.access").disabled = True


class _CurrentStdoutLogger:
    """Writes each line to sys.stdout as it is at that moment. structlog's PrintLogger keeps the
    stream it was made with, and loggers are cached on first use: a stream replaced since (a
    test's captured output, closed after the test) would fail every later line."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stdout, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _current_stdout_logger(*_: Any) -> _CurrentStdoutLogger:
    return _CurrentStdoutLogger()


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


def access_log(
    service: str, request_id: str, method: str, route: str, status: int, elapsed: float
) -> None:
    """One line per request, the same JSON shape as structlog's, without its processor chain:
    this runs on every request of the gateway's hot path. It names the route template
    (`/i/{public_id}`), never the path or query: a public invoice id or a URL signature is the
    secret of its link, and logs are read by more people than links are meant for."""
    if not _ACCESS.isEnabledFor(logging.INFO):
        return
    route_json = _ROUTE_JSON.get(route) or _json_string(route, cache=True)
    id_json = (
        f'"{request_id}"'
        if request_id.isascii() and request_id.isalnum()
        else _json_string(request_id)
    )
    _LINES.write(
        f'{{"event":"request","method":"{method}","route":{route_json},"status":{status},'
        f'"duration_ms":{elapsed * 1000:.2f},"service":"{service}",'
        f'"request_id":{id_json},"level":"info","timestamp":"{_timestamp()}"}}\n'
    )


_ROUTE_JSON: dict[str, str] = {}  # route templates: a bounded set


def _json_string(value: str, *, cache: bool = False) -> str:
    encoded = json.dumps(value)
    if cache and len(_ROUTE_JSON) < 10_000:
        _ROUTE_JSON[value] = encoded
    return encoded


class _Second:
    """The formatted second of the last timestamp: a request line needs only its fraction."""

    epoch = -1
    text = ""


def _timestamp() -> str:
    # Integer microseconds (time_ns): no float arithmetic to split the second from its fraction.
    second, micros = divmod(time.time_ns() // 1000, 1_000_000)
    if second != _Second.epoch:
        _Second.epoch = second
        _Second.text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_Second.text}.{micros:06d}Z"


class _LineBuffer:
    """Request lines written together once per event-loop turn: stdout is unbuffered in the
    images (PYTHONUNBUFFERED), and a write per request was a system call per request. A line
    waits for the end of its loop turn at most; outside a running loop it is written at once."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def write(self, line: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not self._loop:
            self.flush()  # a loop that ended before its flush ran leaves nothing behind
        if loop is None:
            sys.stdout.write(line)
            return
        if not self._lines:
            loop.call_soon(self.flush)
            self._loop = loop
        self._lines.append(line)

    def flush(self) -> None:
        if self._lines:
            lines, self._lines = self._lines, []
            sys.stdout.write("".join(lines))
        self._loop = None


_LINES = _LineBuffer()
atexit.register(_LINES.flush)
