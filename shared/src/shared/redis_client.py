"""Redis connection as a cleanup_ctx resource."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import redis.asyncio as redis
from aiohttp import web


def create_redis(url: str, *, timeout: float = 0.5, max_connections: int = 64) -> redis.Redis:
    # Short timeouts: callers fall back quickly when Redis is unreachable instead of hanging.
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        max_connections=max_connections,
        health_check_interval=30,
    )


def redis_context(
    key: web.AppKey[redis.Redis], url: Callable[[web.Application], str], **options: float
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        client = create_redis(url(app), **options)  # type: ignore[arg-type]
        app[key] = client
        yield
        await client.aclose()

    return context
