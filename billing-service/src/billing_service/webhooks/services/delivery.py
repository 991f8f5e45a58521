"""The webhook delivery loop: posts every event to every subscribed endpoint, in every replica.

A pass claims due deliveries in one statement (SKIP LOCKED, and their next_attempt_at pushed
forward as a lease), commits, then attempts them concurrently and records each outcome in its
own transaction: the attempt in the delivery log, and the delivery succeeded (a 2xx), retried
on the schedule below, or failed after the last attempt. Replicas never take the same delivery
at once; one that dies between claim and record loses nothing: the lease runs out and another
replica attempts it again, under the same webhook-id, so receivers can drop the duplicate.

Per endpoint, a subject's (an invoice's) events go out in order: a delivery is claimed only
when no earlier one of its subject is pending there. Whatever goes wrong with one delivery (a
secret that does not open, a URL the policy now refuses, a receiver that hangs) is recorded on
it while the others go on. An endpoint failing for days is disabled and its company's owners
are e-mailed. Events older than the retention period are pruned a batch at a time.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import hmac
import random
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge

from billing_service.mail import repositories as outbox
from billing_service.platform.auth_client import AuthClient
from billing_service.platform.loops import BY_HAND, DONE, FAILED, LoopContext, describe
from billing_service.platform.settings import Settings
from billing_service.webhooks.http import WebhookHttp
from billing_service.webhooks.repositories import deliveries as repo
from billing_service.webhooks.repositories.deliveries import DueDelivery, Outcome
from billing_service.webhooks.secrets import SecretBox, secret_bytes
from shared.clock import Clock
from shared.logging import get_logger
from shared.web import dumps

log = get_logger("billing.webhooks")

# After the first attempt fails, the waits before the next ones (8 attempts in all).
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1  # each wait is moved by up to 10 %, so endpoints that fail together spread out
DISABLED_TEMPLATE = "webhook-disabled"
PASS_SECONDS = 5.0  # a pass with a backlog ends after this, and the next begins at once
CLAIM_TICK_SECONDS = 0.25  # while attempts are out, what arrived meanwhile is claimed this often


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "billing_webhook_deliveries",
            "Webhook delivery attempts, by outcome (succeeded, retried, failed)",
            ["outcome"],
            registry=registry,
        )
        self.oldest_pending = Gauge(
            "billing_webhook_oldest_pending_seconds",
            "Age of the oldest pending webhook delivery that is due",
            registry=registry,
        )


def payload(delivery: DueDelivery) -> bytes:
    """The body, the same bytes on every attempt. `data` is spliced in as the database keeps
    it: parsing and dumping it again could change its numbers."""
    event_type = dumps(delivery.event_type)
    timestamp = dumps(delivery.event_created_at.astimezone(UTC))
    return f'{{"type":{event_type},"timestamp":{timestamp},"data":{delivery.event_data}}}'.encode()


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks' `v1,` signature: HMAC-SHA256 of "id.timestamp.body"."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def retry_at(attempt: int, now: datetime, jitter: float) -> datetime | None:
    """When a delivery whose `attempt`-th attempt failed is tried again; None: never.
    `jitter` is in [-1, 1]."""
    if attempt >= MAX_ATTEMPTS:
        return None
    return now + RETRY_DELAYS[attempt - 1] * (1 + JITTER * jitter)


class Flight:
    """The attempts a pass has out: their tasks, and how many each endpoint has."""

    def __init__(self) -> None:
        self.tasks: dict[asyncio.Task[None], int] = {}  # -> endpoint id
        self.per_endpoint: collections.Counter[int] = collections.Counter()
        self.attempted = 0
        self.quiet = False  # the last claim found less than it asked for
        self.claimed_at = 0.0  # time.monotonic() of the last claim

    def since_claim(self) -> float:
        return time.monotonic() - self.claimed_at

    def room(self, concurrency: int) -> int:
        return concurrency - len(self.tasks)

    def busy(self, cap: int) -> list[int]:
        """The endpoints at their cap: the next claim leaves them out."""
        return [endpoint for endpoint, out in self.per_endpoint.items() if out >= cap]

    def start(self, delivery: DueDelivery, attempt: Coroutine[Any, Any, None]) -> None:
        self.tasks[asyncio.create_task(attempt)] = delivery.endpoint_id
        self.per_endpoint[delivery.endpoint_id] += 1
        self.attempted += 1

    async def wait(self, tick: float) -> None:
        """Until an attempt comes back, or `tick` seconds (new work may have arrived)."""
        done, _ = await asyncio.wait(self.tasks, timeout=tick, return_when=FIRST_COMPLETED)
        for task in done:
            self.per_endpoint[self.tasks.pop(task)] -= 1
        if done:
            self.quiet = False  # a finished attempt may free its record's next event


@dataclass(frozen=True)
class Notice:
    """The e-mail to a company's owners that one of its endpoints was disabled."""

    addresses: list[str]
    context: dict[str, Any]


class WebhookDelivery:
    def __init__(
        self,
        pool: asyncpg.Pool,
        http: WebhookHttp,
        auth: AuthClient,
        settings: Settings,
        clock: Clock,
        metrics: WebhookMetrics,
        *,
        wall: Clock | None = None,
    ) -> None:
        self.pool = pool
        self.http = http
        self.auth = auth
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        # webhook-timestamp is the real time of the attempt, whatever instant the app's clock
        # stands at: receivers refuse a timestamp far from their own clock.
        self.wall = wall or (lambda: datetime.now(UTC))
        self.box = SecretBox(settings.webhook_secret_key.get_secret_value())
        self.lease = timedelta(seconds=settings.webhook_lease_seconds)
        self.disable_after = timedelta(days=settings.webhook_disable_after_days)
        # Called when a pass ends with work left: the app wakes the loop (BackgroundLoop.wake).
        self.on_backlog: Callable[[], None] = lambda: None
        self.flight = Flight()  # the attempts out, carried from one pass to the next

    async def run_once(self, loop: LoopContext = BY_HAND) -> int:
        """Attempt what is due; the number attempted. Attempts run side by side (up to
        webhook_concurrency), and a freed slot is filled while the others are still out, so a
        receiver that answers slowly holds only its own endpoint's slots (at most
        webhook_connections_per_host of them), never the other tenants' deliveries. A pass
        ends after PASS_SECONDS, or once nothing is out; attempts still out then stay in
        flight into the next pass, which starts at once: waiting for them (a hanging receiver
        holds its attempt for webhook_timeout_seconds) would leave what arrives meanwhile
        unclaimed. Only a stop waits for every attempt to come back."""
        flight, started = self.flight, time.monotonic()
        attempted_before = flight.attempted
        while True:
            if loop.stop_requested():
                flight.quiet = True
            elif time.monotonic() - started > PASS_SECONDS:
                break
            elif flight.room(self.settings.webhook_concurrency) >= self._refill_at(flight):
                await self._claim_into(flight, loop)
            if not flight.tasks:
                break
            await flight.wait(CLAIM_TICK_SECONDS)
        if flight.tasks or not flight.quiet:
            self.on_backlog()
        await self._prune()
        await self._measure()
        return flight.attempted - attempted_before

    async def land(self, bound: float) -> None:
        """When the loop has stopped: the attempts still out (a stop between passes leaves
        them) are waited for up to `bound` seconds, then cancelled (a delivery left
        unrecorded is attempted again when its lease ends)."""
        if not self.flight.tasks:
            return
        _, unfinished = await asyncio.wait(self.flight.tasks, timeout=bound)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)

    def _refill_at(self, flight: Flight) -> int:
        """Claims come in batches while attempts are out (a claim per freed slot would cost a
        query per attempt), or a tick after the last claim whatever the room (attempts that
        hang must not keep new work waiting); with nothing out, any room will do."""
        if not flight.tasks or flight.since_claim() >= CLAIM_TICK_SECONDS:
            return 1
        return max(1, min(self.settings.webhook_batch, self.settings.webhook_concurrency) // 2)

    async def _claim_into(self, flight: Flight, loop: LoopContext) -> None:
        room = flight.room(self.settings.webhook_concurrency)
        cap = self.settings.webhook_connections_per_host
        flight.claimed_at = time.monotonic()
        claimed = await self._claim(min(room, self.settings.webhook_batch), flight.busy(cap), cap)
        for delivery in claimed:
            flight.start(delivery, self._deliver(delivery, loop))
        # Nothing more is due for now: later claims only pick up what arrives meanwhile.
        flight.quiet = len(claimed) < min(room, self.settings.webhook_batch)

    async def _claim(self, limit: int, busy: list[int], per_endpoint: int) -> list[DueDelivery]:
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            return await repo.claim(conn, now, limit, now + self.lease, busy, per_endpoint)

    async def _deliver(self, delivery: DueDelivery, loop: LoopContext) -> None:
        """One attempt, recorded; nothing escapes (an unrecorded delivery is attempted again
        when its lease ends)."""
        outcome = await self._attempt(delivery)
        try:
            await self._record(delivery, outcome, loop)
        except Exception as error:
            log.error("webhook_record_failed", delivery_id=delivery.id, error=describe(error))

    async def _attempt(self, delivery: DueDelivery) -> Outcome:
        started = time.monotonic()
        status_code, error = None, None
        try:
            body = payload(delivery)
            response = await self.http.post(delivery.url, body, self._headers(delivery, body))
            status_code = response.status
            if not 200 <= status_code < 300:
                excerpt = f": {response.excerpt}" if response.excerpt else ""
                error = f"HTTP {status_code}{excerpt}"
        except TimeoutError:
            error = f"TimeoutError: no answer within {self.settings.webhook_timeout_seconds:g} s"
        except Exception as failure:  # a bad row: recorded on it, the others go on
            error = describe(failure)
        duration_ms = round((time.monotonic() - started) * 1000)
        return self._outcome(delivery.attempts + 1, status_code, error, duration_ms)

    def _outcome(
        self, attempt: int, status_code: int | None, error: str | None, duration_ms: int
    ) -> Outcome:
        if error is None:
            return Outcome("succeeded", attempt, status_code, duration_ms, None, None)
        retry = retry_at(attempt, self.clock(), random.uniform(-1, 1))
        status = "failed" if retry is None else "pending"
        return Outcome(status, attempt, status_code, duration_ms, error, retry)

    def _headers(self, delivery: DueDelivery, body: bytes) -> dict[str, str]:
        """Signed with every secret still valid: the current one, and the previous one during
        its overlap after a rotation (a receiver holding either verifies)."""
        timestamp = int(self.wall().timestamp())
        signatures = [
            signature(secret, delivery.event_id, timestamp, body)
            for secret in self._secrets(delivery)
        ]
        return {
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signatures),
        }

    def _secrets(self, delivery: DueDelivery) -> list[str]:
        sealed = [delivery.secret]
        expires = delivery.previous_secret_expires_at
        if delivery.previous_secret and expires is not None and expires > self.clock():
            sealed.append(delivery.previous_secret)
        return [self.box.open(value, delivery.company_id) for value in sealed]

    async def _record(self, delivery: DueDelivery, outcome: Outcome, loop: LoopContext) -> None:
        now = self.clock()
        notice = await self._disable_notice(delivery, outcome, now)
        async with self.pool.acquire() as conn, conn.transaction():
            if not await repo.finish(conn, delivery, outcome, now):
                return  # redelivered or pruned meanwhile
            if outcome.status == "succeeded":
                await repo.endpoint_succeeded(conn, delivery.endpoint_id)
            else:
                await repo.endpoint_failed(conn, delivery.endpoint_id, now)
            if notice is not None:
                await self._disable(conn, delivery, notice, now)
        self._count(delivery, outcome, loop)

    async def _disable_notice(
        self, delivery: DueDelivery, outcome: Outcome, now: datetime
    ) -> Notice | None:
        """The owners' e-mail when this failure disables the endpoint, else None. Asked of
        auth-service before the transaction; if it cannot answer, a later failure disables."""
        since = delivery.failing_since
        if outcome.status == "succeeded" or since is None or now - since < self.disable_after:
            return None
        try:
            async with self.pool.acquire() as conn:
                owner_ids, company = await repo.owners(conn, delivery.company_id)
            users = await self.auth.find_by_ids(owner_ids)
        except Exception as error:
            log.warning(
                "webhook_owners_unknown", endpoint_id=delivery.endpoint_id, error=describe(error)
            )
            return None
        context = {
            "company": company,
            "endpoint_id": delivery.endpoint_id,
            "url": delivery.url,
            "failing_since": since.isoformat(),
            "last_error": outcome.error,
            "days": f"{self.settings.webhook_disable_after_days:g}",
            "retention_days": self.settings.events_retention_days,
        }
        return Notice([user.email for user in users.values()], context)

    async def _disable(
        self, conn: asyncpg.Connection, delivery: DueDelivery, notice: Notice, now: datetime
    ) -> None:
        days = self.settings.webhook_disable_after_days
        reason = f"Every delivery failed for {days:g} days."
        if not await repo.disable(
            conn, delivery.endpoint_id, now - self.disable_after, reason, now
        ):
            return  # another failure disabled it first
        for address in notice.addresses:
            await outbox.queue_notice(
                conn, delivery.company_id, DISABLED_TEMPLATE, address, dumps(notice.context), now
            )
        log.warning("webhook_endpoint_disabled", endpoint_id=delivery.endpoint_id)

    def _count(self, delivery: DueDelivery, outcome: Outcome, loop: LoopContext) -> None:
        kind = {"succeeded": "succeeded", "pending": "retried"}.get(outcome.status, "failed")
        self.metrics.deliveries.labels(kind).inc()
        loop.count_row(DONE if outcome.error is None else FAILED)
        log.info(
            "webhook_attempt",
            delivery_id=delivery.id,
            attempt=outcome.attempt,
            outcome=kind,
            status_code=outcome.status_code,
        )

    async def _prune(self) -> None:
        older_than = self.clock() - timedelta(days=self.settings.events_retention_days)
        async with self.pool.acquire() as conn:
            pruned = await repo.prune(conn, older_than, self.settings.events_prune_batch)
        if pruned:
            log.info("events_pruned", count=pruned)

    async def _measure(self) -> None:
        now = self.clock()
        async with self.pool.acquire() as conn:
            oldest = await repo.oldest_due(conn, now)
        self.metrics.oldest_pending.set(0 if oldest is None else (now - oldest).total_seconds())
