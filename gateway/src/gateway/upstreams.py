"""Upstream services: every address a service name resolves to, re-resolved periodically.

`docker compose up --scale billing-service=3` makes the name resolve to three containers;
requests go round-robin over them, and a replica that appears or disappears is noticed on
the next resolution.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from yarl import URL

from shared.logging import get_logger

log = get_logger("gateway.upstreams")


@dataclass
class Upstream:
    name: str
    url: URL
    addresses: list[str] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def host(self) -> str:
        return self.url.host or "localhost"

    @property
    def port(self) -> int:
        return self.url.port or 80

    @property
    def host_header(self) -> str:
        return f"{self.host}:{self.port}"

    def next_addresses(self) -> list[str]:
        """Addresses in round-robin order starting at the next one (for retries)."""
        if not self.addresses:
            return []
        start = next(self._counter) % len(self.addresses)
        return self.addresses[start:] + self.addresses[:start]

    async def resolve(self) -> None:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
        found = sorted({str(info[4][0]) for info in infos})
        if found != self.addresses:
            log.info("upstream_addresses", upstream=self.name, addresses=found)
        self.addresses = found

    async def resolve_quietly(self) -> None:
        try:
            await self.resolve()
        except OSError:
            log.warning("upstream_unresolvable", upstream=self.name)


Endpoints = set[tuple[str, int]]


class Upstreams:
    def __init__(
        self,
        urls: dict[str, str],
        resolve_interval: float,
        on_refresh: Callable[[Endpoints], None] | None = None,
    ) -> None:
        self._by_name = {name: Upstream(name, URL(url)) for name, url in urls.items()}
        self._interval = resolve_interval
        # Told every (address, port) in use after each periodic resolution (the connection
        # pools close those of replicas gone, and connections idle too long).
        self._on_refresh = on_refresh
        self._task: asyncio.Task[None] | None = None

    def endpoints(self) -> Endpoints:
        return {(a, u.port) for u in self._by_name.values() for a in u.addresses}

    def __getitem__(self, name: str) -> Upstream:
        return self._by_name[name]

    async def resolve_all(self) -> None:
        for upstream in self._by_name.values():
            # Not up yet, or scaled to zero: the last known addresses are kept.
            await upstream.resolve_quietly()

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.resolve_all()
            if self._on_refresh is not None:
                self._on_refresh(self.endpoints())

    async def start(self) -> None:
        await self.resolve_all()
        self._task = asyncio.create_task(self._refresh_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
