"""Billing list latency at 1M invoices, and payments per second on one invoice.

    uv run python bench/billing/run.py      # needs Docker (postgres:15) and wrk

1,000 companies, 1,000,000 invoices, one company holding 100,000 of them. wrk measures
`GET /api/v1/invoices?per_page=15` for that company straight at billing-service: the first
page, page 5,000 by offset, and the same depth by keyset cursor. Then concurrent
`POST /invoices/{id}/pay` on one invoice. Loopback only, bounded in time.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from local import connect, identity_jwt, serve_jwks, start_postgres, stop_postgres, wait_http
from wrk import parse_wrk

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "bench" / "out"
PG_PORT, JWKS_PORT, BILLING_PORT = 9432, 9190, 9191
DURATION = os.environ.get("DURATION", "10s")


def wrk(
    url: str, token: str, *, connections: int = 8, script: Path | None = None
) -> dict[str, float]:
    lua = script or HERE / "get.lua"
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{DURATION}", "--latency", "-s", str(lua), url],
        capture_output=True,
        text=True,
        env=os.environ | {"BENCH_TOKEN": token},
        timeout=120,
        check=True,
    )
    return parse_wrk(done.stdout)


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT / "billing-service" / "src"))
    from billing_service.app import MIGRATIONS
    from shared.db import apply_migrations
    from shared.pagination import encode_cursor

    dsn = start_postgres("bench-pg", PG_PORT)
    key = Ed25519PrivateKey.generate()
    serve_jwks(key, JWKS_PORT)
    billing = None
    try:
        conn = await connect(dsn)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        await apply_migrations(pool, MIGRATIONS)
        started = time.time()
        await conn.execute((HERE / "seed.sql").read_text())
        seeded = time.time() - started
        env = os.environ | {
            "DATABASE_URL": dsn,
            "AUTH_JWKS_URL": f"http://127.0.0.1:{JWKS_PORT}/internal/jwks",
            "PORT": str(BILLING_PORT),
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        billing = subprocess.Popen(
            [sys.executable, "-m", "billing_service"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{BILLING_PORT}"
        wait_http(f"{base}/healthz")
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
        report = {
            "seed_seconds": round(seeded, 1),
            "lists": results,
            "lists_8_connections": loaded,
            "plan_first_page": [r[0] for r in plan],
            "payments": pay | {"payments_recorded": recorded, "amount_paid": str(paid)},
        }
        (OUT / "billing.json").write_text(json.dumps(report, indent=2))
        print(render(report))
        await conn.close()
        await pool.close()
    finally:
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
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    asyncio.run(main())
