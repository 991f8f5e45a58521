"""Report latency at 1M invoices: the ageing and tax reports of a company holding 100,000.

    uv run python bench/receivables/reports.py            # needs Docker (postgres:15)
    uv run python bench/receivables/reports.py --dsn postgresql://...   # a loaded database

Loads bench/receivables/dataset.py's dataset into a fresh postgres:15 on loopback (unless
`--dsn` names one already loaded), runs billing-service as a local process against it (its
background loops off: they would work through the dataset's overdue invoices meanwhile) and
calls each report CALLS times, one call at a time, over HTTP as its owner. Twice: without the
indexes of 055_report_indexes.sql, then with them; EXPLAIN (ANALYZE, BUFFERS) of each report's
query both times. Prints a Markdown table and writes bench/out/reports.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from statistics import quantiles
from typing import Any

import aiohttp
import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from dataset import BIG_COMPANY_ID, END_DATE, OWNER_USER_ID, fill_database  # noqa: E402
from local import identity_jwt, serve_jwks, start_billing, stop_postgres  # noqa: E402

OUT = ROOT / "bench" / "out"
PG_NAME, PG_PORT, JWKS_PORT, BILLING_PORT = "bench-reports-pg", 9533, 9193, 9194
INDEXES = ROOT / "billing-service" / "migrations" / "055_report_indexes.sql"
QUARTER = (date(2026, 7, 1), date(2026, 9, 30))  # a VAT return's quarter of the dataset
YEAR = (END_DATE - timedelta(days=364), END_DATE)


def cases() -> dict[str, tuple[str, str, tuple[Any, ...]]]:
    """name -> (report path and query, the repository's SQL, its parameters)."""
    from billing_service.reports import repositories as sql

    company = BIG_COMPANY_ID
    past = END_DATE - timedelta(days=365)
    return {
        "aging, today": ("aging", sql.AGING, (company, date.today(), None)),
        "aging, as of a year ago": (f"aging?as_of={past}", sql.AGING, (company, past, None)),
        "tax, accrual, a quarter": (
            f"tax?from={QUARTER[0]}&to={QUARTER[1]}", sql.TAX_ACCRUAL, (company, *QUARTER, None)
        ),
        "tax, cash, a quarter": (
            f"tax?from={QUARTER[0]}&to={QUARTER[1]}&basis=cash", sql.TAX_CASH,
            (company, *QUARTER, None),
        ),
        "tax, accrual, a year": (
            f"tax?from={YEAR[0]}&to={YEAR[1]}", sql.TAX_ACCRUAL, (company, *YEAR, None)
        ),
        "revenue, a year by month": (
            f"revenue?from={YEAR[0]}&to={YEAR[1]}&group=month", sql.REVENUE,
            (company, *YEAR, "month", None),
        ),
    }  # fmt: skip


def start_postgres() -> str:
    """A fresh postgres:15 with room in /dev/shm for parallel hash joins."""
    subprocess.run(["docker", "rm", "-f", PG_NAME], capture_output=True)
    subprocess.run(
        ["docker", "run", "-d", "--rm", "--name", PG_NAME, "--shm-size=1g",
         "-p", f"127.0.0.1:{PG_PORT}:5432", "-e", "POSTGRES_PASSWORD=bench",
         "-e", "POSTGRES_DB=billing", "postgres:15",
         "-c", "shared_buffers=512MB", "-c", "max_wal_size=4GB"],
        check=True, capture_output=True,
    )  # fmt: skip
    return f"postgresql://postgres:bench@127.0.0.1:{PG_PORT}/billing"


async def wait_for(dsn: str) -> None:
    for _ in range(120):
        try:
            await (await asyncpg.connect(dsn)).close()
            return
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(0.5)
    raise RuntimeError("PostgreSQL did not start")


def postgres_cpu_ns(container: str) -> int:
    """CPU time the PostgreSQL container has used (cgroup v1 cpuacct, else v2 cpu.stat)."""
    done = subprocess.run(
        ["docker", "exec", container, "sh", "-c",
         "cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null"
         " || sed -n 's/^usage_usec //p' /sys/fs/cgroup/cpu.stat | sed 's/$/000/'"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(done.stdout.strip())


def process_cpu_ns(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


async def timings(
    session: aiohttp.ClientSession, url: str, calls: int, container: str, billing_pid: int
) -> dict[str, float]:
    """p50 and p90 in ms of `calls` calls one after another (after two warm-up calls), and
    the CPU time one call costs PostgreSQL and billing-service: the work itself, whatever
    else the machine runs meanwhile (a shared machine's load stretches only the wall time)."""
    spent = []
    for number in range(calls + 2):
        if number == 2:
            cpu_before = postgres_cpu_ns(container), process_cpu_ns(billing_pid)
        started = time.perf_counter()
        async with session.get(url) as response:
            body = await response.read()
            assert response.status == 200, body[:500]
        if number >= 2:
            spent.append((time.perf_counter() - started) * 1000)
    postgres = (postgres_cpu_ns(container) - cpu_before[0]) / calls / 1e6
    billing = (process_cpu_ns(billing_pid) - cpu_before[1]) / calls / 1e6
    cuts = quantiles(spent, n=10)
    return {
        "p50_ms": round(cuts[4], 1),
        "p90_ms": round(cuts[8], 1),
        "calls": calls,
        "postgres_cpu_ms": round(postgres, 1),
        "billing_cpu_ms": round(billing, 1),
        "bytes": len(body),
    }


async def explain(conn: asyncpg.Connection, query: str, args: tuple[Any, ...]) -> str:
    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {query}", *args)
    return "\n".join(row[0] for row in rows)


def index_names() -> list[str]:
    return re.findall(r"CREATE INDEX (\w+)", INDEXES.read_text())


async def measure(
    conn: asyncpg.Connection,
    session: aiohttp.ClientSession,
    calls: int,
    container: str,
    billing_pid: int,
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{BILLING_PORT}/api/v1/reports"
    found = {}
    for name, (path, query, args) in cases().items():
        separator = "&" if "?" in path else "?"
        url = f"{base}/{path}{separator}company_id={BIG_COMPANY_ID}"
        found[name] = await timings(session, url, calls, container, billing_pid) | {
            "plan": await explain(conn, query, args)
        }
        shown = {key: value for key, value in found[name].items() if key != "plan"}
        print(f"  {name}: {shown}", file=sys.stderr)
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", help="a database dataset.py has loaded (else one is made)")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--container", default=PG_NAME, help="the PostgreSQL container")
    parser.add_argument(
        "--indexed-only", action="store_true", help="only the run with 055's indexes"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    dsn = args.dsn
    if dsn is None:
        dsn = start_postgres()
        await wait_for(dsn)
        print(await fill_database(dsn), file=sys.stderr)
    key = Ed25519PrivateKey.generate()
    serve_jwks(key, JWKS_PORT)
    loops_off = {f"{loop}_ENABLED": "false" for loop in ("SCHEDULER", "MAILER", "WEBHOOKS")}
    billing = start_billing(dsn, JWKS_PORT, BILLING_PORT, **loops_off)
    token = identity_jwt(key, OWNER_USER_ID)
    conn = await asyncpg.connect(dsn)
    results: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
            if not args.indexed_only:
                for name in index_names():
                    await conn.execute(f"DROP INDEX IF EXISTS {name}")
                print("without 055's indexes:", file=sys.stderr)
                results["without indexes"] = await measure(
                    conn, session, args.calls, args.container, billing.pid
                )
            await conn.execute(
                INDEXES.read_text().replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS")
            )
            for table in ("invoices", "invoice_items", "payments", "refunds"):
                await conn.execute(f"VACUUM (ANALYZE) {table}")
            print("with them:", file=sys.stderr)
            results["with indexes"] = await measure(
                conn, session, args.calls, args.container, billing.pid
            )
    finally:
        await conn.close()
        billing.terminate()
        billing.wait(timeout=30)
        if args.dsn is None:
            stop_postgres(PG_NAME)
    (OUT / ("reports-indexed.json" if args.indexed_only else "reports.json")).write_text(
        json.dumps(results, indent=2)
    )
    print(
        "| report | without indexes: p50 / p90 ms, CPU ms (PostgreSQL + billing) "
        "| with indexes: p50 / p90 ms, CPU ms (PostgreSQL + billing) |"
    )
    print("|---|---|---|")
    for name in cases():
        cells = [
            f"{r[name]['p50_ms']} / {r[name]['p90_ms']}, "
            f"{r[name]['postgres_cpu_ms']} + {r[name]['billing_cpu_ms']}"
            if r
            else "-"
            for r in (results.get("without indexes"), results["with indexes"])
        ]
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
