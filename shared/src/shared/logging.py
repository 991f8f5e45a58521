"""Structured JSON logging with structlog. Secrets never reach a log line."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_REDACTED_KEYS = frozenset(
    {"authorization", "token", "password", "secret", "identity_jwt", "jwt", "cookie"}
)


def _redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event.keys() & _REDACTED_KEYS:
        event[key] = "[redacted]"
    return event


def configure_logging(service: str, level: str = "INFO", json_output: bool = True) -> None:
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
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # aiohttp's own access log duplicates ours and would print raw request lines.
    logging.getLogger("aiohttp.access").disabled = True


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
