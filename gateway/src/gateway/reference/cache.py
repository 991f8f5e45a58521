"""The services' documents, fetched and kept like the JWKS: refetched on an interval, and on
demand when a request finds them stale; the last good copy of each is kept while its service
is down, and no request waits longer than a moment for a fetch."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from gateway.reference.merge import Document
from shared.identity import DOCUMENT_PATH
from shared.logging import get_logger
from shared.web import dumps

log = get_logger("gateway.reference")


@dataclass(frozen=True)
class Served:
    """The document as served: JSON, its gzip, its ETag."""

    body: bytes
    gzipped: bytes
    etag: str


Fetch = Callable[[str], Awaitable[Document]]
Publish = Callable[[Mapping[str, Document]], Document]
Clock = Callable[[], float]


class NotADocument(ValueError):
    """A service answered, but not with an OpenAPI document."""


def http_fetcher(
    session: aiohttp.ClientSession, urls: Mapping[str, str], internal_secret: str, timeout: float
) -> Fetch:
    """Fetch a service's document from its internal route."""

    async def fetch(service: str) -> Document:
        url = URL(urls[service]).with_path(DOCUMENT_PATH)
        async with session.get(
            url,
            headers={"X-Internal-Secret": internal_secret},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            if response.status != 200:
                raise NotADocument(f"status {response.status}")
            document: Any = await response.json(content_type=None)
        if not (
            isinstance(document, dict)
            and str(document.get("openapi", "")).startswith("3.")
            and isinstance(document.get("paths"), dict)
        ):
            raise NotADocument("not an OpenAPI 3 document")
        return document

    return fetch


class DocumentCache:
    def __init__(
        self,
        fetch: Fetch,
        services: Sequence[str],
        publish: Publish,
        *,
        interval: float,
        retry: float,
        wait: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._services = tuple(services)
        self._publish = publish
        self._interval = interval  # a full refetch this often
        self._retry = retry  # a service missing: asked again at most this often
        self._wait = wait  # the longest a request waits for a refetch it triggered
        self._clock = clock
        self._documents: dict[str, Document] = {}  # the last good copy, per service
        self._published = publish({})
        self._serve(self._published)
        self._fetched_at = -float("inf")
        self._refreshing: asyncio.Task[None] | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        """The services of which no document was ever fetched."""
        return tuple(s for s in self._services if s not in self._documents)

    def _stale(self) -> bool:
        age = self._clock() - self._fetched_at
        return age >= self._interval or (bool(self.missing) and age >= self._retry)

    async def current(self) -> Document:
        """The public document; a stale one is refetched, but only for `wait` seconds
        before the copy at hand is served (the refetch goes on in the background)."""
        if self._stale():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.refresh()), self._wait)
        return self._published

    async def served(self) -> Served:
        """`current()` as the JSON served, its gzip and its ETag."""
        await self.current()
        return self._served

    def _serve(self, document: Document) -> None:
        # Serialised, compressed and tagged once per change, not per request (some 450 KB).
        body = dumps(document).encode()
        tag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        self._served = Served(body, gzip.compress(body, mtime=0), tag)

    def refresh(self) -> asyncio.Task[None]:
        """One refetch of every service at a time: concurrent callers share it."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._refresh())
        return self._refreshing

    async def _refresh(self) -> None:
        self._fetched_at = self._clock()
        fetched = await asyncio.gather(*(self._fetch_quietly(s) for s in self._services))
        documents = self._documents | {
            service: document
            for service, document in zip(self._services, fetched, strict=True)
            if document is not None
        }
        if documents == self._documents:
            return
        try:
            published = self._publish(documents)
        except Exception:  # another process's document: whatever is wrong with it, it is logged
            log.exception("openapi_merge_failed")  # and the last good document stays published
            return
        self._documents, self._published = documents, published
        self._serve(published)

    async def _fetch_quietly(self, service: str) -> Document | None:
        try:
            return await self._fetch(service)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("openapi_fetch_failed", upstream=service, error=str(error))
            return None

    async def run(self) -> None:
        """Refetch every `interval` seconds, until cancelled at shutdown."""
        try:
            while True:
                await self.refresh()
                await asyncio.sleep(self._interval)
        finally:
            if self._refreshing is not None:
                self._refreshing.cancel()
