"""Webhook delivery: events per second, the cost of the event on a payment, and the time from
a payment to its delivery.

    uv run python bench/webhooks/run.py     # needs Docker (postgres:15) and wrk

billing-service runs on the host (one or two replicas on one PostgreSQL), delivering to a local
aiohttp receiver on 127.0.0.1 (allow-listed). Measured side by side in one run:
- `POST /invoices/{id}/pay` at one client (wrk), p50/p99: the code before webhooks (a
  checkout of BASELINE beside, no event written), then without and with a subscribed
  endpoint (the event is written either way; the endpoint adds its delivery row, and the
  deliveries run meanwhile);
- the time from sending a payment to the receiver's having its `invoice.payment_recorded`,
  for payments one after the other (p50, p99);
- events delivered per second draining a backlog of queued events, one then two replicas.
Loopback only, bounded in count and time. Prints a markdown report, writes
bench/out/webhooks.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from local import connect, identity_jwt, serve_jwks, start_postgres, stop_postgres, wait_http
from wrk import parse_wrk

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "bench" / "out"
PG_PORT, JWKS_PORT, RECEIVER_PORT = 9433, 9290, 9292
BILLING_PORTS = (9291, 9293)
DURATION = os.environ.get("DURATION", "10s")
BACKLOG = int(os.environ.get("BACKLOG", "5000"))
BASELINE = "5a07f0f"  # main before webhooks: a payment writes no event
LATENCY_PAYMENTS = int(os.environ.get("LATENCY_PAYMENTS", "200"))
PAY_INVOICES = 2000  # per wrk run: 1.. without an endpoint, 2001.. with one, 6001.. baseline
LATENCY_FIRST = 4 * PAY_INVOICES + 1  # after the baseline's 3 * PAY_INVOICES + 1..
SEED = """
INSERT INTO companies (id, name, slug, created_by) VALUES (1, 'Bench', 'bench', 1);
INSERT INTO company_members (company_id, user_id, role) VALUES (1, 1, 'owner');
SELECT setval('companies_id_seq', 1);
INSERT INTO invoices (company_id, public_id, type, status, label, currency, scheduled_date,
                      subtotal, tax, total, created_by)
SELECT 1, 'bench-pay-' || n, 'invoice', 'approved', 'PAY-' || n, 'USD', current_date,
       9999999999, 0, 9999999999, 1
FROM generate_series(1, $INVOICES) n;
"""
# A backlog of `count` events, each with its delivery to endpoint `endpoint`, due now.
BACKLOG_SQL = """
WITH made AS (
    INSERT INTO events (id, company_id, type, subject, data, created_at)
    SELECT 'evt_bench_' || $3 || '_' || n, 1, 'recipient.created', 'recipient:' || n,
           jsonb_build_object('id', n, 'company_name', 'Backlog ' || n), now()
    FROM generate_series(1, $1) n
    RETURNING seq, subject
)
INSERT INTO webhook_deliveries (endpoint_id, event_seq, company_id, subject, next_attempt_at,
                                created_at)
SELECT $2, seq, 1, subject, now(), now() FROM made
"""


class Receiver:
    """Counts deliveries and notes when each arrived, answering 204 at once."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}  # webhook-id -> time.time()
        self.payloads: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.lock = threading.Lock()

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = time.time()
        with self.lock:
            self.requests += 1
            self.arrived.setdefault(request.headers["webhook-id"], now)
            self.payloads[request.headers["webhook-id"]] = json.loads(body)
        return web.Response(status=204)

    def serve(self) -> None:
        def run() -> None:
            app = web.Application()
            app.router.add_post("/hook", self.hook)
            web.run_app(
                app,
                host="127.0.0.1",
                port=RECEIVER_PORT,
                print=None,
                handle_signals=False,
                loop=asyncio.new_event_loop(),
            )

        threading.Thread(target=run, daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.arrived)


def start_billing(
    dsn: str, port: int, webhooks: bool, code: Path | None = None
) -> subprocess.Popen[bytes]:
    """A billing replica; `code`: another checkout's billing-service and shared instead."""
    paths = {}
    if code is not None:
        paths = {"PYTHONPATH": f"{code}/billing-service/src:{code}/shared/src"}
    env = (
        os.environ
        | paths
        | {
            "DATABASE_URL": dsn,
            "AUTH_JWKS_URL": f"http://127.0.0.1:{JWKS_PORT}/internal/jwks",
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "SCHEDULER_ENABLED": "false",
            "MAILER_ENABLED": "false",
            "WEBHOOKS_ENABLED": "true" if webhooks else "false",
            "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "billing_service"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return process


def call(method: str, url: str, token: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def wrk_pay(base: str, first_invoice: int, token: str) -> dict[str, float]:
    """Payments at one client over PAY_INVOICES invoices from `first_invoice`, in turn."""
    done = subprocess.run(
        ["wrk", "-t1", "-c1", f"-d{DURATION}", "--latency", "-s", str(HERE / "pay.lua"), base],
        capture_output=True,
        text=True,
        env=os.environ
        | {"BENCH_TOKEN": token, "FIRST_INVOICE": str(first_invoice), "INVOICES": str(PAY_INVOICES)},
        timeout=120,
        check=True,
    )  # fmt: skip
    return parse_wrk(done.stdout)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def payment_latency(base: str, token: str, receiver: Receiver) -> dict[str, float]:
    """Payments one after the other, each on an invoice of its own: sent -> received, ms."""
    sent: dict[int, float] = {}
    for invoice_id in range(LATENCY_FIRST, LATENCY_FIRST + LATENCY_PAYMENTS):
        sent[invoice_id] = time.time()
        call("POST", f"{base}/api/v1/invoices/{invoice_id}/pay", token, {"amount": "1.00"})
        time.sleep(0.02)  # paced: latency, not throughput
    deadline = time.time() + 120
    while time.time() < deadline:
        with receiver.lock:
            seen = {
                payload["data"]["id"]: receiver.arrived[event_id]
                for event_id, payload in receiver.payloads.items()
                if payload["type"] == "invoice.payment_recorded"
            }
        if set(sent) <= set(seen):
            break
        time.sleep(0.2)
    waits = [(seen[invoice_id] - start) * 1000 for invoice_id, start in sent.items()]
    return {
        "payments": len(waits),
        "p50_ms": statistics.median(waits),
        "p99_ms": percentile(waits, 0.99),
    }


async def drain_rate(
    conn: Any, dsn: str, endpoint_id: int, replicas: int, receiver: Receiver
) -> float:
    """Events per second delivering a backlog of BACKLOG events with `replicas` replicas,
    timed from the start of the backlog's transaction (its commit wakes the running loops) to
    its last arrival."""
    processes = [start_billing(dsn, port, True) for port in BILLING_PORTS[:replicas]]
    try:
        before = receiver.count()
        started = time.time()
        async with conn.transaction():  # the loops see it, and are woken, at commit
            await conn.execute(BACKLOG_SQL, BACKLOG, endpoint_id, f"r{replicas}-{time.time_ns()}")
            # Statistics as autovacuum keeps them: the 5,000 rows arrive in one statement
            # here, and plans made for the table as it was (a tenth of it) scan all of it.
            await conn.execute("ANALYZE webhook_deliveries")
            await conn.execute("SELECT pg_notify('webhook_deliveries', '')")
        deadline = started + 300
        while receiver.count() < before + BACKLOG and time.time() < deadline:
            await asyncio.sleep(0.01)
        elapsed = time.time() - started
        delivered = receiver.count() - before
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    return delivered / elapsed


def baseline_checkout() -> Path:
    """The code before webhooks (no event written by a payment), checked out beside."""
    path = Path(tempfile.gettempdir()) / f"bench-baseline-{BASELINE}"
    if not path.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), BASELINE],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return path


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT / "billing-service" / "src"))
    from billing_service.app import MIGRATIONS
    from shared.db import apply_migrations, create_pool

    dsn = start_postgres("bench-pg-hooks", PG_PORT)
    key = Ed25519PrivateKey.generate()
    serve_jwks(key, JWKS_PORT)
    receiver = Receiver()
    receiver.serve()
    billing = None
    try:
        conn = await connect(dsn)
        pool = await create_pool(dsn, min_size=1, max_size=2)
        await apply_migrations(pool, MIGRATIONS)
        await pool.close()
        invoices = LATENCY_FIRST + LATENCY_PAYMENTS
        await conn.execute(SEED.replace("$INVOICES", str(invoices)))
        token = identity_jwt(key)
        base = f"http://127.0.0.1:{BILLING_PORTS[0]}"
        billing = start_billing(dsn, BILLING_PORTS[0], webhooks=False, code=baseline_checkout())
        before_events = wrk_pay(base, 3 * PAY_INVOICES + 1, token)
        billing.terminate()
        billing.wait(timeout=30)
        billing = start_billing(dsn, BILLING_PORTS[0], webhooks=True)
        without = wrk_pay(base, 1, token)
        hook = call(
            "POST",
            f"{base}/api/v1/webhooks",
            token,
            {"url": f"http://127.0.0.1:{RECEIVER_PORT}/hook", "events": ["*"]},
        )["data"]
        with_endpoint = wrk_pay(base, PAY_INVOICES + 1, token)
        latency = payment_latency(base, token, receiver)
        billing.terminate()
        billing.wait(timeout=30)
        billing = None
        rates = {n: await drain_rate(conn, dsn, hook["id"], n, receiver) for n in (1, 2)}
        report = {
            "pay_before_webhooks": before_events,
            "pay_without_endpoint": without,
            "pay_with_endpoint": with_endpoint,
            "payment_to_delivery": latency,
            "events_per_second": {str(n): rate for n, rate in rates.items()},
            "backlog": BACKLOG,
        }
        (OUT / "webhooks.json").write_text(json.dumps(report, indent=2))
        print(render(report))
        await conn.close()
    finally:
        if billing is not None:
            billing.terminate()
        stop_postgres("bench-pg-hooks")


def render(report: dict[str, Any]) -> str:
    without, with_endpoint = report["pay_without_endpoint"], report["pay_with_endpoint"]
    latency, rates = report["payment_to_delivery"], report["events_per_second"]
    return "\n".join(
        [
            "| POST /invoices/{id}/pay, 1 client | req/s | p50 ms | p99 ms |",
            "|---|---:|---:|---:|",
            f"| before webhooks ({BASELINE}: no event written) | "
            f"{report['pay_before_webhooks']['rps']:.0f} | "
            f"{report['pay_before_webhooks']['p50_ms']:.2f} | "
            f"{report['pay_before_webhooks']['p99_ms']:.2f} |",
            f"| no endpoint subscribed | {without['rps']:.0f} | {without['p50_ms']:.2f} | "
            f"{without['p99_ms']:.2f} |",
            f"| one endpoint subscribed (delivering meanwhile) | {with_endpoint['rps']:.0f} | "
            f"{with_endpoint['p50_ms']:.2f} | {with_endpoint['p99_ms']:.2f} |",
            "",
            f"- payment -> delivery at the receiver ({latency['payments']} payments one after "
            f"the other): p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms",
            f"- events delivered per second draining {report['backlog']} queued events: "
            f"{rates['1']:.0f} with one replica, {rates['2']:.0f} with two",
        ]
    )


if __name__ == "__main__":
    asyncio.run(main())
