"""CSV export and import at scale (issue 21): the export of one company's 100,000 invoices out
of 1,000,000, its rows per second and billing-service's memory while it streams; an import of
10,000 customers.

    uv run python bench/receivables/exchange.py       # needs Docker (postgres:15)
    PROFILE=1 uv run --with py-spy python bench/receivables/exchange.py

The dataset is bench/receivables/dataset.py's (the reports' benchmark loads the same one).
billing-service runs as a local process against a PostgreSQL container on loopback; the
client reads the CSV as it arrives and counts its lines, while a thread samples the
service's VmRSS (/proc/<pid>/status) every 20 ms. Loopback only, bounded in time.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from statistics import median

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import fill_database
from local import identity_jwt, serve_jwks, start_billing, start_postgres, stop_postgres
from spy import record, summarise

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
PG_PORT, JWKS_PORT, BILLING_PORT = 9642, 9690, 9691
CONTAINER = "wt21d-bench-exchange-pg"
ROUNDS = int(os.environ.get("ROUNDS", "3"))
INVOICES = int(os.environ.get("INVOICES", "1000000"))
BIG = int(os.environ.get("BIG_COMPANY_INVOICES", "100000"))
IMPORT_ROWS = 10_000
PROFILE = os.environ.get("PROFILE") == "1"
IMPORT_COMPANY, IMPORT_OWNER = 2, 1002  # the dataset's company 2 and its owner


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class RssSampler:
    """The process's resident memory, sampled on a thread while a request runs."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.pid, self.every = pid, every
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(rss_kib(self.pid))
            time.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


async def stream_export(base: str, token: str, pid: int) -> dict[str, float]:
    """One export of company 1's invoices: rows, seconds, rows/s and RSS before / peak."""
    url = f"{base}/api/v1/exports/invoices?company_id=1"
    headers = {"Authorization": f"Bearer {token}"}
    before = rss_kib(pid)
    lines = size = 0
    timeout = aiohttp.ClientTimeout(total=600)
    with RssSampler(pid) as sampler:
        started = time.perf_counter()
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(url, headers=headers) as response,
        ):
            assert response.status == 200, await response.text()
            first_byte = time.perf_counter() - started
            async for chunk in response.content.iter_any():
                lines += chunk.count(b"\r\n")  # no invoice field holds a line break here
                size += len(chunk)
        seconds = time.perf_counter() - started
    rows = lines - 1
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "first_byte_ms": first_byte * 1000,
        "mib": size / 2**20,
        "rss_before_mib": before / 1024,
        "rss_peak_mib": max(sampler.samples, default=before) / 1024,
        "rss_growth_mib": (max([*sampler.samples, before]) - before) / 1024,
    }


def customers_csv(round_: int) -> bytes:
    lines = ["company_name,contact_name,email,phone,city,postcode,country_code,currency,tax_rate"]
    for n in range(IMPORT_ROWS):
        lines.append(
            f"Imported {round_}-{n} Ltd,Buyer {n},buyer{round_}-{n}@import.example,"
            f"+49 30 {n:06d},Berlin,{10000 + n % 9000},DE,EUR,19"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


async def timed_import(base: str, token: str, body: bytes, dry_run: bool) -> float:
    url = f"{base}/api/v1/imports/customers?company_id={IMPORT_COMPANY}"
    if dry_run:
        url += "&dry_run=true"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
        started = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as response:
            answer = await response.json()
        seconds = time.perf_counter() - started
    assert response.status == (200 if dry_run else 201), answer
    assert answer["data"]["rows"] == IMPORT_ROWS
    return seconds


def profiled(pid: int, seconds: int, name: str) -> tuple[subprocess.Popen[bytes], Path] | None:
    if not PROFILE:
        return None
    OUT.mkdir(parents=True, exist_ok=True)
    raw = OUT / f"exchange-{name}.txt"
    return record(pid, seconds, raw), raw


async def main() -> None:
    dsn = start_postgres(CONTAINER, PG_PORT, shm_size="1g")
    key = Ed25519PrivateKey.generate()
    serve_jwks(key, JWKS_PORT)
    billing = None
    try:
        await asyncio.sleep(2)
        loaded = await _fill(dsn)
        print(f"dataset: {loaded}", file=sys.stderr)
        # The loops off: the scheduler would announce the dataset's overdue invoices meanwhile.
        off = {f"{loop}_ENABLED": "false" for loop in ("SCHEDULER", "MAILER", "WEBHOOKS")}
        billing = start_billing(dsn, JWKS_PORT, BILLING_PORT, **off)
        base = f"http://127.0.0.1:{BILLING_PORT}"
        owner = identity_jwt(key, user_id=1)
        # Warm-up: code loaded, the pool's connections open (its growth is reported too).
        warm_up = await stream_export(base, owner, billing.pid)
        print(f"warm-up export: {warm_up}", file=sys.stderr)
        exports = []
        for round_ in range(ROUNDS):
            spy = profiled(billing.pid, 8, "export") if round_ == 0 else None
            result = await stream_export(base, owner, billing.pid)
            exports.append(result)
            print(f"export {round_ + 1}: {result}", file=sys.stderr)
            if spy:
                spy[0].wait()
                print(summarise(spy[1]))
        importer = identity_jwt(key, user_id=IMPORT_OWNER)
        dry = [await timed_import(base, importer, customers_csv(99), dry_run=True)]
        imports = []
        for round_ in range(ROUNDS):
            spy = profiled(billing.pid, 10, "import") if round_ == 0 else None
            seconds = await timed_import(base, importer, customers_csv(round_), dry_run=False)
            imports.append(seconds)
            print(f"import {round_ + 1}: {seconds:.2f} s", file=sys.stderr)
            if spy:
                spy[0].wait()
                print(summarise(spy[1]))
        _report(loaded, [warm_up, *exports], imports, dry)
    finally:
        if billing is not None:
            billing.terminate()
            billing.wait(timeout=30)
        stop_postgres(CONTAINER)


async def _fill(dsn: str) -> object:
    for attempt in range(60):
        try:
            return await fill_database(dsn, invoices=INVOICES, big_company_invoices=BIG)
        except OSError:
            if attempt == 59:
                raise
            await asyncio.sleep(1)
    raise RuntimeError("unreachable")


def _report(
    loaded: object, exports: list[dict[str, float]], imports: list[float], dry: list[float]
) -> None:
    print(f"\ndataset: {loaded}\n")
    print(
        "| round | rows | seconds | rows/s | first byte ms | MiB | RSS before MiB | peak | growth |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, r in enumerate(exports):  # round 0: the warm-up
        print(
            f"| {n} | {r['rows']:.0f} | {r['seconds']:.2f} | {r['rows_per_s']:.0f} | "
            f"{r['first_byte_ms']:.0f} | {r['mib']:.1f} | {r['rss_before_mib']:.1f} | "
            f"{r['rss_peak_mib']:.1f} | {r['rss_growth_mib']:.1f} |"
        )
    rates = [r["rows_per_s"] for r in exports[1:]]
    growth = [r["rss_growth_mib"] for r in exports[1:]]
    print(
        f"\nexport rows/s min / median / max: {min(rates):.0f} / {median(rates):.0f} / {max(rates):.0f}"
    )
    print(
        f"RSS growth MiB min / median / max: {min(growth):.1f} / {median(growth):.1f} / {max(growth):.1f}"
    )
    print(f"import of {IMPORT_ROWS} customers, s: {', '.join(f'{s:.2f}' for s in imports)}")
    print(f"dry run of the same, s: {', '.join(f'{s:.2f}' for s in dry)}")


if __name__ == "__main__":
    asyncio.run(main())
