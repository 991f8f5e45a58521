"""A service-to-service client over its own pooled aiohttp session, as a cleanup_ctx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import aiohttp
from aiohttp import web

T = TypeVar("T")


def client_context(
    key: web.AppKey[T],
    build: Callable[[aiohttp.ClientSession, web.Application], T],
    timeout: aiohttp.ClientTimeout,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            app[key] = build(session, app)
            yield

    return context
