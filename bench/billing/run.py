"""Billing list latency at 1M invoices, and payments per second on one invoice.

    uv run python bench/billing/run.py      # needs Docker (postgres:15, redis:7) and wrk
    PROFILE=1 uv run --with py-spy python bench/billing/run.py

1,000 companies, 1,000,000 invoices, one company holding 100,000 of them. wrk measures
`GET /api/v1/invoices?per_page=15` for that company straight at billing-service: the first
page, page 5,000 by offset, and the same depth by keyset cursor. Then concurrent
`POST /invoices/{id}/pay` on one invoice. Then, at CONNECTIONS clients, the first page, a
create of 3 items and payments over 1,000 invoices, each straight at billing-service and
through the gateway (with its Redis holding the client token's identity). Loopback only,
bounded in time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from statistics import median
from typing import Any

import asyncpg
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from local import (
    connect,
    identity_jwt,
    serve_jwks,
    start_billing,
    start_postgres,
    stop_postgres,
    wait_http,
)
from processes import whole_box
from spy import record, summarise
from wrk import parse_wrk

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "bench" / "out"
PG_PORT, JWKS_PORT, BILLING_PORT, GATEWAY_PORT, REDIS_PORT = 9432, 9190, 9191, 9192, 9380
DURATION = os.environ.get("DURATION", "10s")
CONNECTIONS = int(os.environ.get("CONNECTIONS", "50"))  # direct against through the gateway
ROUNDS = int(os.environ.get("ROUNDS", "5"))  # of the list, direct then through the gateway
PROFILE = os.environ.get("PROFILE") == "1"  # py-spy billing-service under each request's load
GATEWAY_SECRET = "billingbenchsecretbillingbenchsecret0042"
GATEWAY_TOKEN = f"1|{GATEWAY_SECRET}"
PAY_INVOICES = 1000
CPU_PARTS = ("wrk", "gateway", "redis", "billing", "postgres", "box")
CREATE_BODY = {
    "company_id": 1,
    "invoice_recipient_id": 1,
    "currency": "USD",
    "items": [
        {"label": "Design", "quantity": "3", "price": "120.00", "tax_percentage": "20"},
        {"label": "Hosting", "quantity": "1", "price": "49.90"},
        {"label": "Support", "quantity": "2.5", "price": "80.00", "tax_percentage": "10"},
    ],
}


def wrk(
    url: str,
    token: str,
    *,
    connections: int = 8,
    script: Path | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, float]:
    lua = script or HERE / "get.lua"
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{DURATION}", "--latency", "-s", str(lua), url],
        capture_output=True,
        text=True,
        env=os.environ | {"BENCH_TOKEN": token} | (env or {}),
        timeout=120,
        check=True,
    )
    return parse_wrk(done.stdout)


def _postgres_pid() -> int:
    """The bench's PostgreSQL server process as the host sees it (its backends are children)."""
    inspect = ["docker", "inspect", "-f", "{{.State.Pid}}", "bench-pg"]
    return int(subprocess.run(inspect, capture_output=True, text=True, check=True).stdout)


def _counted(
    port: int, bearer: str, serving: dict[str, int], counters: redis.Redis
) -> dict[str, Any]:
    """The list at CONNECTIONS clients, with each process's CPU µs per request served."""
    before = whole_box(serving, counters)
    result: dict[str, Any] = wrk(f"http://127.0.0.1:{port}/api/v1/invoices?per_page=15", bearer,
                                 connections=CONNECTIONS, script=HERE / "get.lua")  # fmt: skip
    after = whole_box(serving, counters)
    result["cpu_us"] = {
        part: (after[part] - before[part]) * 1e6 / result["requests"] for part in after
    }
    return result


def start_gateway(identity_jwt: str) -> subprocess.Popen[bytes]:
    """The gateway in front of billing-service, its Redis holding the bench token's identity
    as an introspection leaves it (`<user id>\n<token id>\n<identity JWT>`)."""
    subprocess.run(["docker", "rm", "-f", "bench-redis-billing"], capture_output=True)
    subprocess.run(
        ["docker", "run", "-d", "--rm", "--name", "bench-redis-billing",
         "-p", f"127.0.0.1:{REDIS_PORT}:6379", "redis:7", "redis-server", "--save", "", "--protected-mode", "no"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    for _ in range(50):
        try:
            client = redis.Redis(port=REDIS_PORT)
            client.set(f"tok:{hashlib.sha256(GATEWAY_SECRET.encode()).hexdigest()}",
                       f"1\n1\n{identity_jwt}", ex=3600)  # fmt: skip
            break
        except redis.ConnectionError:
            time.sleep(0.2)
    env = os.environ | {
        "PORT": str(GATEWAY_PORT),
        "METRICS_PORT": str(GATEWAY_PORT + 1),
        "HOST": "127.0.0.1",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "BILLING_URL": f"http://127.0.0.1:{BILLING_PORT}",
        "AUTH_URL": "http://127.0.0.1:9",
        "PDF_URL": "http://127.0.0.1:9",
        "RATE_LIMIT_DEFAULT": "1000000000",
        "ENVIRONMENT": "development",
    }
    gateway = subprocess.Popen(
        [sys.executable, "-m", "gateway"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{GATEWAY_PORT}/healthz")
    return gateway


def stop_gateway(gateway: subprocess.Popen[bytes] | None) -> None:
    if gateway is not None:
        gateway.terminate()
    subprocess.run(["docker", "rm", "-f", "bench-redis-billing"], capture_output=True)


def check(url: str, token: str, method: str = "GET", body: bytes | None = None) -> Any:
    """The answer to one request, which must be a success (a benchmark of errors is none)."""
    request = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    return json.load(urllib.request.urlopen(request, timeout=30))


def direct_and_through_gateway(
    paths: dict[str, tuple[str, Path, dict[str, str]]], token: str, billing_pid: int
) -> dict[str, dict[str, Any]]:
    """Each request at CONNECTIONS clients straight at billing-service (identity JWT) and
    through the gateway (the client's token), one after the other; with PROFILE=1, py-spy
    records billing-service during the direct run."""
    results: dict[str, dict[str, Any]] = {}
    for name, (path, script, env) in paths.items():
        spy = None
        if PROFILE:
            raw = OUT / f"billing-profile-{len(results) + 1}.txt"
            spy = record(billing_pid, 6, raw)
            time.sleep(1)
        direct = wrk(f"http://127.0.0.1:{BILLING_PORT}{path}", token, connections=CONNECTIONS,
                     script=script, env=env)  # fmt: skip
        profile = None
        if spy is not None:
            spy.wait(timeout=60)
            profile = summarise(raw, top=12)
        gateway = wrk(f"http://127.0.0.1:{GATEWAY_PORT}{path}", GATEWAY_TOKEN,
                      connections=CONNECTIONS, script=script, env=env)  # fmt: skip
        results[name] = {"direct": direct, "gateway": gateway, "profile": profile}
    return results


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT / "billing-service" / "src"))
    from billing_service.app import MIGRATIONS
    from shared.db import apply_migrations
    from shared.pagination import encode_cursor

    dsn = start_postgres("bench-pg", PG_PORT)
    key = Ed25519PrivateKey.generate()
    serve_jwks(key, JWKS_PORT)
    billing = gateway = None
    try:
        conn = await connect(dsn)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        await apply_migrations(pool, MIGRATIONS)
        started = time.time()
        await conn.execute((HERE / "seed.sql").read_text())
        seeded = time.time() - started
        billing = start_billing(dsn, JWKS_PORT, BILLING_PORT)
        base = f"http://127.0.0.1:{BILLING_PORT}"
        token = identity_jwt(key)
        depth = 5000 * 15 - 15  # the rows page 5,000 skips
        row = await conn.fetchrow(
            "SELECT id FROM invoices WHERE company_id = 1 AND deleted_at IS NULL "
            "ORDER BY id DESC OFFSET $1 LIMIT 1",
            depth - 1,
        )
        cursor = encode_cursor(row["id"], row["id"])
        plan = await conn.fetch(
            "EXPLAIN ANALYZE SELECT i.id FROM invoices i WHERE i.deleted_at IS NULL "
            "AND i.company_id = ANY($1) ORDER BY i.id DESC, i.id DESC LIMIT 15",
            [1],
        )
        urls = {
            "first page": f"{base}/api/v1/invoices?per_page=15",
            "page 5,000 by offset": f"{base}/api/v1/invoices?per_page=15&page=5000",
            "page 5,000 depth by cursor": f"{base}/api/v1/invoices?per_page=15&cursor={cursor}",
        }
        for url in urls.values():  # warm caches and check the answer
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            body = json.load(urllib.request.urlopen(request, timeout=30))
            assert len(body["data"]) == 15, body
        results = {name: wrk(url, token, connections=1) for name, url in urls.items()}
        loaded = {name: wrk(url, token, connections=8) for name, url in urls.items()}
        # Payments: one invoice with room for every payment, paid concurrently.
        invoice_id = await conn.fetchval(
            "INSERT INTO invoices (company_id, public_id, type, status, label, currency, "
            "scheduled_date, subtotal, tax, total, created_by) VALUES "
            "(1, 'bench-pay', 'invoice', 'approved', 'PAY-1', 'USD', current_date, "
            "9999999999, 0, 9999999999, 1) RETURNING id"
        )
        pay = wrk(
            f"{base}/api/v1/invoices/{invoice_id}/pay",
            token,
            connections=16,
            script=HERE / "pay.lua",
        )
        recorded = await conn.fetchval(
            "SELECT count(*) FROM payments WHERE invoice_id = $1", invoice_id
        )
        paid = await conn.fetchval("SELECT amount_paid FROM invoices WHERE id = $1", invoice_id)
        # Direct against through the gateway: the list, a create, payments on many invoices.
        gateway = start_gateway(token)
        pay_first = await conn.fetchval(
            "INSERT INTO invoices (company_id, public_id, type, status, label, currency, "
            "scheduled_date, subtotal, tax, total, created_by) "
            "SELECT 1, 'bench-pay-' || n, 'invoice', 'approved', 'PAY-M' || n, 'USD', "
            "current_date, 9999999999, 0, 9999999999, 1 FROM generate_series(1, $1) n "
            "RETURNING id",
            PAY_INVOICES,
        )
        pay_env = {"PAY_FIRST": str(pay_first), "PAY_COUNT": str(PAY_INVOICES)}
        create_body = json.dumps(CREATE_BODY)
        for where, bearer in ((base, token), (f"http://127.0.0.1:{GATEWAY_PORT}", GATEWAY_TOKEN)):
            created = check(f"{where}/api/v1/invoices", bearer, "POST", create_body.encode())
            assert len(created["data"]["items"]) == 3, created
            check(f"{where}/api/v1/invoices/{pay_first}/pay", bearer, "POST",
                  b'{"amount": "0.01"}')  # fmt: skip
            assert len(check(f"{where}/api/v1/invoices?per_page=15", bearer)["data"]) == 15
        compared = direct_and_through_gateway(
            {
                "GET /api/v1/invoices?per_page=15": ("/api/v1/invoices?per_page=15", HERE / "get.lua", {}),
                "POST /api/v1/invoices (3 items)": ("/api/v1/invoices", HERE / "create.lua", {"BODY": create_body}),
                "POST /api/v1/invoices/{id}/pay": ("/api/v1/invoices/1/pay", HERE / "pay_many.lua", pay_env),
            },
            token,
            billing.pid,
        )  # fmt: skip
        # The list again, ROUNDS times, direct then through the gateway in each round, with
        # the CPU each process spent per request.
        serving = {"billing": billing.pid, "gateway": gateway.pid, "postgres": _postgres_pid()}
        counters = redis.Redis(port=REDIS_PORT)
        list_rounds = [
            {
                where: _counted(port, bearer, serving, counters)
                for where, port, bearer in (("direct", BILLING_PORT, token),
                                            ("gateway", GATEWAY_PORT, GATEWAY_TOKEN))
            }
            for _ in range(ROUNDS)
        ]  # fmt: skip
        report = {
            "seed_seconds": round(seeded, 1),
            "list_rounds": list_rounds,
            "lists": results,
            "lists_8_connections": loaded,
            "plan_first_page": [r[0] for r in plan],
            "payments": pay | {"payments_recorded": recorded, "amount_paid": str(paid)},
            "direct_and_gateway": compared,
        }
        (OUT / "billing.json").write_text(json.dumps(report, indent=2))
        print(render(report))
        await conn.close()
        await pool.close()
    finally:
        stop_gateway(gateway)
        if billing is not None:
            billing.terminate()
        stop_postgres("bench-pg")


def render(report: dict) -> str:
    lines = [
        "| GET /api/v1/invoices?per_page=15 (company with 100k of 1M) | clients | req/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, clients in (("lists", 1), ("lists_8_connections", 8)):
        for name, r in report[key].items():
            lines.append(
                f"| {name} | {clients} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
            )
    first = report["lists"]["first page"]["p50_ms"]
    cursor = report["lists"]["page 5,000 depth by cursor"]["p50_ms"]
    offset = report["lists"]["page 5,000 by offset"]["p50_ms"]
    pay = report["payments"]
    lines += [
        "",
        f"- cursor at depth 75,000 / first page (p50): {cursor / first:.2f}x (target <= 1.5x); "
        f"offset at the same depth: {offset / first:.2f}x",
        f"- payments on one invoice, 16 concurrent clients: {pay['rps']:.0f} payments/s "
        f"(p50 {pay['p50_ms']:.2f} ms, p99 {pay['p99_ms']:.2f} ms); {pay['payments_recorded']} recorded, "
        f"amount_paid {pay['amount_paid']} (= recorded x 0.01), non-2xx {pay['non_2xx']}",
        f"- seeding 1M invoices took {report['seed_seconds']} s",
        "",
        f"Direct (identity JWT) against through the gateway (the client's token), {CONNECTIONS} "
        "connections, one process each:",
        "",
        "| request | direct req/s | p50 ms | p99 ms | gateway req/s | p50 ms | p99 ms | gateway / direct |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in report["direct_and_gateway"].items():
        d, g = r["direct"], r["gateway"]
        lines.append(
            f"| {name} | {d['rps']:.0f} | {d['p50_ms']:.2f} | {d['p99_ms']:.2f} | {g['rps']:.0f} | "
            f"{g['p50_ms']:.2f} | {g['p99_ms']:.2f} | **{g['rps'] / d['rps']:.2f}x** |"
        )
        if d["non_2xx"] or g["non_2xx"]:
            lines.append(f"| (non-2xx: direct {d['non_2xx']}, gateway {g['non_2xx']}) |")
    rounds = report["list_rounds"]
    if rounds:
        ratios = sorted(r["gateway"]["rps"] / r["direct"]["rps"] for r in rounds)
        direct = sorted(r["direct"]["rps"] for r in rounds)
        through = sorted(r["gateway"]["rps"] for r in rounds)
        lines += [
            "",
            f"GET /api/v1/invoices?per_page=15, {len(rounds)} rounds (direct, then through the "
            f"gateway), min / median / max: direct {direct[0]:.0f} / {median(direct):.0f} / "
            f"{direct[-1]:.0f} req/s, gateway {through[0]:.0f} / {median(through):.0f} / "
            f"{through[-1]:.0f} req/s; gateway / direct **{ratios[0]:.2f} / {median(ratios):.2f} "
            f"/ {ratios[-1]:.2f}x** (non-2xx {sum(r['gateway']['non_2xx'] for r in rounds)})",
            "",
            "CPU per request of each process in those rounds (µs, median; the box: all CPU used "
            "on the machine over the requests served):",
            "",
            "| | " + " | ".join(CPU_PARTS) + " |",
            "|---|" + "---:|" * len(CPU_PARTS),
        ]
        for where in ("direct", "gateway"):
            cells = [median(r[where]["cpu_us"][part] for r in rounds) for part in CPU_PARTS]
            lines.append(f"| {where} | " + " | ".join(f"{cell:.0f}" for cell in cells) + " |")
    for name, r in report["direct_and_gateway"].items():
        if r["profile"]:
            lines += ["", f"py-spy, billing-service under {name} (direct):", r["profile"]]
    return "\n".join(lines)


if __name__ == "__main__":
    asyncio.run(main())
