"""The webhook delivery loop against real receivers on loopback, each request verified with the
official `standardwebhooks` library; the loop driven by hand with a clock the test moves."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from billing_service.platform.keys import POOL, SETTINGS
from billing_service.webhooks.repositories import deliveries as repo
from billing_service.webhooks.secrets import new_secret
from billing_service.webhooks.services.delivery import RETRY_DELAYS

from ..helpers.webhooks import (
    MovingClock,
    add_endpoint,
    attempts_of,
    delivery_for,
    delivery_of,
    emit,
    eventually,
    start_receiver,
    stop_receiver,
)

LOOPBACK = "127.0.0.0/8"


@pytest.fixture
async def billing(start_billing):
    """billing-service allowed to call loopback receivers (as WEBHOOK_ALLOWED_NETWORKS says)."""
    client = await start_billing(webhook_allowed_networks=LOOPBACK)
    # Other tests' deliveries share the table: this test's pass sees only its own.
    await client.app[POOL].execute(
        "UPDATE webhook_deliveries SET status = 'failed' WHERE status = 'pending'"
    )
    return client


@pytest.fixture
async def receiver():
    receiver = await start_receiver()
    yield receiver
    await stop_receiver(receiver)
    assert receiver.bad_signatures == []  # every request verified with every secret


@pytest.fixture
async def company(make_setup):
    return (await make_setup()).company_id


async def test_a_delivery_is_signed_and_shaped_as_standard_webhooks(billing, receiver, company):
    endpoint_id, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets = [secret]
    event_id = await emit(billing, company, "invoice.paid", invoice_id=42)
    clock = MovingClock()
    assert await delivery_for(billing, clock).run_once() == 1
    [request] = receiver.requests
    assert request.id == event_id and event_id.startswith("evt_")
    assert abs(int(request.timestamp) - datetime.now(UTC).timestamp()) < 60
    assert request.headers["User-Agent"] == "invoicing-platform-webhooks/1.0"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-signature"].startswith("v1,")
    body = json.loads(request.body)
    assert body["type"] == "invoice.paid"
    assert body["data"] == {"id": 42, "amount_paid": "120.00", "note": "paid in full"}
    created = await billing.app[POOL].fetchval(
        "SELECT created_at FROM events WHERE id = $1", event_id
    )
    assert body["timestamp"] == created.isoformat().replace("+00:00", "Z")
    [attempt] = await attempts_of(billing, event_id)
    assert (attempt["attempt"], attempt["status_code"], attempt["error"]) == (1, 200, None)
    assert attempt["next_attempt_at"] is None and attempt["delivery_status"] == "succeeded"
    assert await delivery_for(billing, clock).run_once() == 0  # never twice


async def test_failing_twice_then_succeeding_is_three_requests_of_one_webhook_id(
    billing, receiver, company
):
    _, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets = [secret]
    event_id = await emit(billing, company)
    receiver.failures[event_id] = 2
    clock = MovingClock()
    delivery = delivery_for(billing, clock)
    assert await delivery.run_once() == 1
    assert await delivery.run_once() == 0  # not due before its retry time
    clock.move(seconds=5 * 1.1 + 1)
    assert await delivery.run_once() == 1
    clock.move(minutes=5 * 1.1, seconds=1)
    assert await delivery.run_once() == 1
    assert receiver.ids() == [event_id] * 3
    assert len({request.body for request in receiver.requests}) == 1  # the same bytes
    attempts = await attempts_of(billing, event_id)
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(1, 500), (2, 500), (3, 200)]
    assert attempts[0]["error"] == "HTTP 500: not now"
    for attempt, delay in zip(attempts[:2], RETRY_DELAYS, strict=False):
        waited = attempt["next_attempt_at"] - attempt["created_at"]
        assert delay * 0.9 <= waited <= delay * 1.1
    assert attempts[2]["next_attempt_at"] is None
    assert attempts[2]["delivery_status"] == "succeeded"


async def test_the_full_schedule_then_failed(billing, receiver, company):
    _, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets, receiver.mode = [secret], "fail"
    event_id = await emit(billing, company)
    clock = MovingClock()
    delivery = delivery_for(billing, clock)
    for _ in range(8):
        assert await delivery.run_once() == 1
        row = await delivery_of(billing, event_id)
        clock.offset = row["next_attempt_at"] - datetime.now(UTC) + timedelta(seconds=1)
    assert await delivery.run_once() == 0
    row = await delivery_of(billing, event_id)
    assert (row["status"], row["attempts"]) == ("failed", 8)
    assert len(receiver.requests) == 8
    attempts = await attempts_of(billing, event_id)
    assert [a["next_attempt_at"] is None for a in attempts] == [False] * 7 + [True]
    waits = [a["next_attempt_at"] - a["created_at"] for a in attempts[:7]]
    for waited, delay in zip(waits, RETRY_DELAYS, strict=True):
        assert delay * 0.9 <= waited <= delay * 1.1


async def test_an_invoice_s_later_event_waits_while_its_earlier_one_is_retried(
    billing, receiver, company
):
    _, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets = [secret]
    a1 = await emit(billing, company, "invoice.sent", invoice_id=1)
    a2 = await emit(billing, company, "invoice.paid", invoice_id=1)
    b1 = await emit(billing, company, "invoice.sent", invoice_id=2)
    b2 = await emit(billing, company, "invoice.paid", invoice_id=2)
    receiver.failures[a1] = 1
    clock = MovingClock()
    delivery = delivery_for(billing, clock)
    await delivery.run_once()
    await delivery.run_once()
    assert receiver.ids() == [a1, b1, b2] or receiver.ids() == [b1, a1, b2]
    assert (await delivery_of(billing, a2))["attempts"] == 0  # held back behind a1
    clock.move(seconds=10)
    await delivery.run_once()
    await delivery.run_once()
    ids = receiver.ids()
    assert ids.count(a1) == 2 and ids.count(a2) == 1
    assert ids.index(a2) > len(ids) - 1 - ids[::-1].index(a1)  # after a1's success


async def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(
    billing, receiver, company
):
    old, clock = new_secret(), MovingClock()
    overlap_ends = clock() + timedelta(hours=24)
    _, new = await add_endpoint(billing, company, receiver.url(), previous=(old, overlap_ends))
    receiver.secrets = [old, new]  # both verifiers accept the request
    await emit(billing, company)
    assert await delivery_for(billing, clock).run_once() == 1
    assert len(receiver.requests[0].headers["webhook-signature"].split(" ")) == 2
    clock.move(hours=24, seconds=1)
    receiver.secrets = [new]
    await emit(billing, company)
    assert await delivery_for(billing, clock).run_once() == 1
    late = receiver.requests[1]
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(late.body, late.headers)
    assert len(late.headers["webhook-signature"].split(" ")) == 1


async def test_internal_addresses_are_refused_at_connect_time(start_billing, receiver, company):
    billing = await start_billing()  # no WEBHOOK_ALLOWED_NETWORKS
    port = receiver.server.port
    urls = [
        f"http://127.0.0.1:{port}/hook",
        f"http://[::1]:{port}/hook",
        "http://169.254.169.254/latest/meta-data/",
        f"http://[::ffff:127.0.0.1]:{port}/hook",
        "http://no-such-host.invalid/hook",  # resolves to nothing: reads like a refusal
        f"http://localhost:{port}/hook",  # a name resolving to loopback
    ]
    for url in urls:
        await add_endpoint(billing, company, url)
    await billing.app[POOL].execute(
        "UPDATE webhook_deliveries SET status = 'failed' WHERE status = 'pending'"
    )
    event_id = await emit(billing, company)
    assert await delivery_for(billing, MovingClock()).run_once() == len(urls)
    assert receiver.requests == []
    errors = await billing.app[POOL].fetch(
        "SELECT w.url, a.error, a.status_code FROM webhook_attempts a "
        "JOIN webhook_endpoints w ON w.id = a.endpoint_id "
        "JOIN webhook_deliveries d ON d.id = a.delivery_id JOIN events e ON e.seq = d.event_seq "
        "WHERE e.id = $1",
        event_id,
    )
    assert sorted(row["url"] for row in errors) == sorted(urls)
    refused = {row["url"]: row["error"] for row in errors}
    assert all(row["status_code"] is None for row in errors)
    # IP literals are refused before connecting (aiohttp does not resolve them), a name by
    # the resolver the connector uses: what it connects to is what was checked.
    assert refused.pop(urls[-1]) == "RefusedAddress: localhost has no address the platform may call"
    assert refused.pop(urls[-2]) == (  # the log tells no internal name from a missing one
        "RefusedAddress: no-such-host.invalid has no address the platform may call"
    )
    assert set(refused.values()) == {
        "UnsafeUrl: must not point at a private, loopback or link-local address"
    }


async def test_redirects_are_not_followed(billing, receiver, company):
    _, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets, receiver.mode = [secret], "redirect"
    event_id = await emit(billing, company)
    await delivery_for(billing, MovingClock()).run_once()
    [attempt] = await attempts_of(billing, event_id)
    assert attempt["status_code"] == 302 and attempt["delivery_status"] == "pending"
    assert receiver.target_hits == 0


@pytest.mark.parametrize(
    ("mode", "status"), [("stream-ok", "succeeded"), ("stream-fail", "pending")]
)
async def test_a_huge_answer_is_read_only_up_to_the_cap(billing, receiver, company, mode, status):
    _, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets, receiver.mode = [secret], mode
    event_id = await emit(billing, company)
    # The answer never ends: reading it to the end would be a timeout, not this outcome.
    await delivery_for(billing, MovingClock()).run_once()
    [attempt] = await attempts_of(billing, event_id)
    assert attempt["delivery_status"] == status
    if status == "pending":
        excerpt = attempt["error"].removeprefix("HTTP 500: ")
        assert excerpt == "\ufffd" + "x" * 4095  # the cap, its NUL made storable


async def test_a_receiver_that_hangs_times_out(start_billing, receiver, company):
    billing = await start_billing(webhook_allowed_networks=LOOPBACK, webhook_timeout_seconds=0.5)
    await billing.app[POOL].execute(
        "UPDATE webhook_deliveries SET status = 'failed' WHERE status = 'pending'"
    )
    _, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets, receiver.mode = [secret], "hang"
    event_id = await emit(billing, company)
    await delivery_for(billing, MovingClock()).run_once()
    [attempt] = await attempts_of(billing, event_id)
    assert attempt["error"] == "TimeoutError: no answer within 0.5 s"
    assert attempt["status_code"] is None


async def test_a_bad_row_fails_alone(billing, receiver, company):
    _, secret = await add_endpoint(billing, company, receiver.url("/good"))
    corrupt, _ = await add_endpoint(billing, company, receiver.url("/corrupt"))
    unsafe, _ = await add_endpoint(billing, company, "ftp://files.example.com/hook")
    pool = billing.app[POOL]
    sealed = await pool.fetchval("SELECT secret FROM webhook_endpoints WHERE id = $1", corrupt)
    await pool.execute(
        "UPDATE webhook_endpoints SET secret = $2 WHERE id = $1", corrupt, sealed[:-8] + "AAAAAAA="
    )
    receiver.secrets = [secret]
    event_id = await emit(billing, company)
    assert await delivery_for(billing, MovingClock()).run_once() == 3
    assert [request.path for request in receiver.requests] == ["/good"]
    rows = await pool.fetch(
        "SELECT a.endpoint_id, a.error, d.status FROM webhook_attempts a "
        "JOIN webhook_deliveries d ON d.id = a.delivery_id JOIN events e ON e.seq = d.event_seq "
        "WHERE e.id = $1",
        event_id,
    )
    errors = {row["endpoint_id"]: (row["error"], row["status"]) for row in rows}
    assert errors[corrupt] == ("ValueError: the secret does not open with this key", "pending")
    assert errors[unsafe] == ("UnsafeUrl: must be an https URL", "pending")


async def test_a_claimed_delivery_whose_replica_died_is_delivered_after_its_lease(
    billing, receiver, company
):
    _, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets = [secret]
    event_id = await emit(billing, company)
    clock = MovingClock()
    async with billing.app[POOL].acquire() as conn, conn.transaction():  # claimed, then "killed"
        [claimed] = await repo.claim(conn, clock(), 10, clock() + timedelta(seconds=60), [], 4)
    delivery = delivery_for(billing, clock)
    assert await delivery.run_once() == 0  # leased
    clock.move(seconds=61)
    assert await delivery.run_once() == 1
    assert receiver.ids() == [claimed.event_id] == [event_id]


async def test_an_endpoint_failing_for_five_days_is_disabled_and_its_owners_emailed(
    billing, receiver, company, tmp_path
):
    endpoint_id, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets, receiver.mode = [secret], "fail"
    clock = MovingClock()
    await emit(billing, company)
    await delivery_for(billing, clock).run_once()
    pool = billing.app[POOL]
    endpoint = await pool.fetchrow("SELECT * FROM webhook_endpoints WHERE id = $1", endpoint_id)
    assert endpoint["enabled"] and endpoint["failing_since"] is not None
    clock.move(days=4, hours=23)
    await emit(billing, company, invoice_id=2)
    await delivery_for(billing, clock).run_once()
    assert await pool.fetchval("SELECT enabled FROM webhook_endpoints WHERE id = $1", endpoint_id)
    clock.move(hours=2)
    await delivery_for(billing, clock).run_once()
    endpoint = await pool.fetchrow("SELECT * FROM webhook_endpoints WHERE id = $1", endpoint_id)
    assert not endpoint["enabled"]
    assert endpoint["disabled_reason"] == "Every delivery failed for 5 days."
    [notice] = await pool.fetch(
        "SELECT * FROM email_outbox WHERE company_id = $1 AND template = 'webhook-disabled'",
        company,
    )
    owner = await pool.fetchval(
        "SELECT user_id FROM company_members WHERE company_id = $1 AND role = 'owner'", company
    )
    assert notice["invoice_id"] is None and notice["status"] == "pending"
    assert json.loads(notice["context"])["url"] == receiver.url()
    requests = len(receiver.requests)
    clock.move(days=1)
    assert await delivery_for(billing, clock).run_once() == 0  # a disabled endpoint rests
    assert len(receiver.requests) == requests
    await _owner_email_is_sent(billing, clock, notice, owner, tmp_path)


async def _owner_email_is_sent(billing, clock, notice, owner_id, tmp_path):
    """The mailer sends the notice (no invoice, no PDF) and announces it as an event."""
    from billing_service.documents.keys import DOCUMENTS
    from billing_service.events.keys import EVENTS
    from billing_service.mail.services.mailer import Mailer
    from billing_service.platform.keys import AUTH

    pool = billing.app[POOL]
    await pool.execute(
        "UPDATE email_outbox SET status = 'sent' WHERE status = 'pending' AND id <> $1",
        notice["id"],
    )
    settings = billing.app[SETTINGS].model_copy(update={"mail_dir": str(tmp_path)})
    mailer = Mailer(pool, billing.app[DOCUMENTS], settings, clock, billing.app[EVENTS])
    assert await mailer.run_once() == 1
    [eml] = tmp_path.iterdir()
    text = eml.read_text()
    owner = (await billing.app[AUTH].find_by_ids([owner_id]))[owner_id]
    assert notice["to_email"] == owner.email and f"To: {owner.email}" in text
    assert "Subject: A webhook endpoint of Acme Ltd was disabled" in text
    assert "application/pdf" not in text
    data = await pool.fetchval(
        "SELECT data FROM events WHERE type = 'email.delivered' AND data->>'id' = $1",
        str(notice["id"]),
    )
    assert json.loads(data) == {
        "id": notice["id"],
        "invoice_id": None,
        "template": "webhook-disabled",
        "to": owner.email,
        "attempts": 1,
    }


async def test_old_events_are_pruned_with_their_deliveries(billing, receiver, company):
    _, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets = [secret]
    old, recent = await emit(billing, company), await emit(billing, company, invoice_id=2)
    clock = MovingClock()
    await delivery_for(billing, clock).run_once()
    pool = billing.app[POOL]
    await pool.execute(
        "UPDATE events SET created_at = created_at - interval '31 days' WHERE id = $1", old
    )
    await delivery_for(billing, clock).run_once()
    remaining = await pool.fetch("SELECT id FROM events WHERE id = ANY($1)", [old, recent])
    assert [row["id"] for row in remaining] == [recent]
    assert await delivery_of(billing, old) is None


async def test_two_replicas_deliver_each_event_exactly_once(start_billing, receiver, company):
    loops = {
        "webhook_allowed_networks": LOOPBACK,
        "webhooks_enabled": True,
        "webhook_interval_seconds": 0.01,
        "webhook_batch": 5,
    }
    first = await start_billing(**loops)
    await first.app[POOL].execute(
        "UPDATE webhook_deliveries SET status = 'failed' WHERE status = 'pending'"
    )
    _, secret = await add_endpoint(first, company, receiver.url())
    receiver.secrets = [secret]
    second = await start_billing(**loops)
    events = [await emit(first, company, invoice_id=n % 7) for n in range(60)]

    async def all_delivered():
        return len(set(receiver.ids())) == len(events)

    await eventually(all_delivered)
    assert sorted(receiver.ids()) == sorted(events)  # none twice
    per_invoice: dict[int, list[str]] = {}
    for request in receiver.requests:
        per_invoice.setdefault(json.loads(request.body)["data"]["id"], []).append(request.id)
    for invoice_id, ids in per_invoice.items():  # each invoice's events in order
        assert ids == [e for n, e in enumerate(events) if n % 7 == invoice_id]

    async def outcomes_recorded():  # an outcome is recorded just after the receiver answers
        counts = [await _delivered_count(app) for app in (first, second)]
        return sum(counts) == len(events)

    await eventually(outcomes_recorded)


async def _delivered_count(billing):
    response = await billing.get("/metrics")
    text = await response.text()
    assert 'billing_loop_passes_total{loop="webhooks"}' in text
    line = next(
        line
        for line in text.splitlines()
        if line.startswith('billing_webhook_deliveries_total{outcome="succeeded"}')
    )
    return int(float(line.split()[-1]))


async def test_metrics_count_outcomes_and_the_oldest_pending_age(billing, receiver, company):
    _, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets = [secret]
    first = await emit(billing, company, invoice_id=1)
    await emit(billing, company, invoice_id=1)
    receiver.failures[first] = 1
    clock = MovingClock()
    await delivery_for(billing, clock).run_once()
    clock.move(seconds=4)  # the first's retry is not due yet; the second waits behind it
    await delivery_for(billing, clock).run_once()
    text = await (await billing.get("/metrics")).text()
    assert 'billing_webhook_deliveries_total{outcome="retried"} 1.0' in text
    gauge = next(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("billing_webhook_oldest_pending_seconds ")
    )
    assert 4 <= gauge < 60


async def test_a_committed_change_wakes_the_delivery_loop_at_once(start_billing, receiver, company):
    """The loop's interval is five minutes: only the notification sent at commit can bring the
    event to the receiver within the wait (rolled-back events notify nobody)."""
    billing = await start_billing(
        webhook_allowed_networks=LOOPBACK,
        webhooks_enabled=True,
        webhook_interval_seconds=300,
    )
    _, secret = await add_endpoint(billing, company, receiver.url())
    receiver.secrets = [secret]

    async def first_pass_done():
        return (
            'billing_loop_passes_total{loop="webhooks"} 1.0'
            in await (await billing.get("/metrics")).text()
        )

    await eventually(first_pass_done)  # now resting for 300 s
    event_id = await emit(billing, company, "invoice.paid", invoice_id=7)

    async def arrived():
        return event_id in receiver.ids()

    await eventually(arrived, within=60)

    # The listening connection cut by the server: the loop listens again, and is woken again.
    cut = await billing.app[POOL].fetchval(
        "SELECT array_agg(pid) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE query LIKE 'LISTEN %webhook_deliveries%' AND pid <> pg_backend_pid()"
    )
    assert cut

    async def listening_again():  # on a new connection
        return await billing.app[POOL].fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN %webhook_deliveries%' AND NOT (pid = ANY($1::int[]))",
            cut,
        )

    await eventually(listening_again, within=60)
    again = await emit(billing, company, "invoice.paid", invoice_id=8)

    async def arrived_again():
        return again in receiver.ids()

    await eventually(arrived_again, within=60)


async def test_a_receiver_that_hangs_holds_its_own_slots_never_another_tenants(billing, make_setup):
    """One tenant's 40 events to a receiver that never answers take its endpoint's few slots;
    another tenant's event goes out meanwhile, not after their timeouts."""
    slow, quick = await start_receiver(), await start_receiver()
    slow.mode = "hang"
    try:
        slow_company = (await make_setup()).company_id
        quick_company = (await make_setup()).company_id
        _, slow.secrets = await _endpoint_of(billing, slow_company, slow)
        _, quick.secrets = await _endpoint_of(billing, quick_company, quick)
        for n in range(40):
            await emit(billing, slow_company, invoice_id=1000 + n)
        quick_event = await emit(billing, quick_company, invoice_id=2000)
        running = asyncio.create_task(delivery_for(billing, MovingClock()).run_once())

        async def quick_delivered():
            return quick_event in quick.ids()

        await eventually(quick_delivered, within=8)  # well inside the slow ones' 10 s timeout
        cap = billing.app[SETTINGS].webhook_connections_per_host
        assert 0 < len(slow.requests) <= cap
        slow.release.set()
        await running
    finally:
        await stop_receiver(slow)
        await stop_receiver(quick)


async def _endpoint_of(billing, company, receiver) -> tuple[int, list[str]]:
    endpoint_id, secret = await add_endpoint(billing, company, receiver.url())
    return endpoint_id, [secret]


async def test_a_healthy_endpoint_is_served_at_once_while_another_hangs_past_its_timeout(
    start_billing, make_setup
):
    """The running loop (woken at commit), one endpoint that never answers and a healthy one of
    the same tenant and of another, for longer than the attempt timeout and than a pass: every
    event for a healthy endpoint reaches it long before a hanging attempt could have timed out
    (a pass that ended used to wait for its hanging attempts before claiming anything new)."""
    timeout = 6.0
    billing = await start_billing(
        webhook_allowed_networks=LOOPBACK, webhooks_enabled=True, webhook_timeout_seconds=timeout
    )
    await billing.app[POOL].execute(
        "UPDATE webhook_deliveries SET status = 'failed' WHERE status = 'pending'"
    )
    hanging, healthy = await start_receiver(), await start_receiver()
    hanging.mode = "hang"
    try:
        tenant, other_tenant = (await make_setup()).company_id, (await make_setup()).company_id
        _, hanging.secrets = await _endpoint_of(billing, tenant, hanging)
        same_tenant_secret = (await add_endpoint(billing, tenant, healthy.url("/same")))[1]
        other_tenant_secret = (await add_endpoint(billing, other_tenant, healthy.url("/other")))[1]
        healthy.secrets = []  # two secrets: each request is checked against its own below
        emitted: dict[str, float] = {}
        started = time.monotonic()
        invoice = 3000
        while time.monotonic() - started < 2.5 * timeout:
            invoice += 1
            for company in (tenant, other_tenant):  # the tenant's also goes to the hanging one
                event_id = await emit(billing, company, invoice_id=invoice)
                emitted[f"{event_id}:{company}"] = time.monotonic()
            await asyncio.sleep(0.5)

        async def all_arrived():
            return len(healthy.requests) >= len(emitted)

        await eventually(all_arrived, within=3 * timeout)
        secrets = {"/same": same_tenant_secret, "/other": other_tenant_secret}
        for request in healthy.requests:
            Webhook(secrets[request.path]).verify(request.body, request.headers)
        company_of = {"/same": tenant, "/other": other_tenant}
        waits = [
            request.arrived - emitted[f"{request.id}:{company_of[request.path]}"]
            for request in healthy.requests
        ]
        assert hanging.requests  # the hang was on all along
        print(f"\nhealthy deliveries: {len(waits)}, slowest {max(waits):.3f} s")  # bench/RESULTS
        assert max(waits) < timeout / 2, sorted(waits)[-5:]
    finally:
        await stop_receiver(hanging)
        await stop_receiver(healthy)
