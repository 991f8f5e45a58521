"""What holds the gateway's p99 at half of its peak: the same paced load with the
connections in step (PACING=fixed, the bench's former pacing) and independent (poisson), and
at the same rate over fewer connections; the gateway runs with probes for garbage-collector
passes and event-loop stalls (probed_gateway.py), counted within each run.

    uv run python bench/gateway/tail.py      # needs wrk and Docker; prints a markdown table
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench

HERE = Path(__file__).resolve().parent
PATH = "/api/v1/companies"
# PRELOAD=n: n more runs at peak before the cases, as run.py's rounds come before its curves.
PRELOAD = int(os.environ.get("PRELOAD", "0"))
SLOWLOG_US = 2000  # Redis logs a command that took this long (µs, wall time, inside Redis)


def _start_redis() -> None:
    subprocess.run(["docker", "rm", "-f", "bench-redis"], capture_output=True)
    subprocess.run(
        ["docker", "run", "-d", "--rm", "--name", "bench-redis", *bench.redis_network(),
         "--save", "", "--appendonly", "no", "--protected-mode", "no"],
        check=True, capture_output=True,
    )  # fmt: skip


def _events(probe: Path, since: float, until: float) -> dict[str, float]:
    counts = {
        "gc": 0,
        "gc_ms_max": 0.0,
        "gc2": 0,
        "stalls": 0,
        "stall_ms_max": 0.0,
        "stall_ran_ms": 0.0,
    }
    for line in probe.read_text().splitlines():
        event = json.loads(line)
        if not since <= event["t"] <= until:
            continue
        if event["kind"] == "gc":
            counts["gc"] += 1
            counts["gc2"] += event["generation"] == 2
            counts["gc_ms_max"] = max(counts["gc_ms_max"], event["ms"])
        else:
            counts["stalls"] += 1
            if event["ms"] > counts["stall_ms_max"]:
                counts["stall_ms_max"], counts["stall_ran_ms"] = event["ms"], event["ran_ms"]
    return counts


def _slow_scripts(client: redis.Redis) -> tuple[int, float]:
    """Redis' own slow log since the last call (then emptied): how many commands took
    SLOWLOG_US or more inside Redis, wall time, and the longest in ms."""
    entries = client.slowlog_get(128)
    client.slowlog_reset()
    return len(entries), max((e["duration"] / 1000 for e in entries), default=0.0)


def _runqueue_wait(pid: int) -> float:
    """Seconds the process was ready to run but waited for a core (Linux schedstat)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def main() -> None:
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.jsonl"
        probe.touch()
        try:
            _start_redis()
            python = sys.executable
            upstream = f"http://127.0.0.1:{bench.PORTS['upstream']}"
            processes.append(
                bench.start([python, str(HERE / "upstream.py"), str(bench.PORTS["upstream"])])
            )
            env = os.environ | {
                "PORT": str(bench.PORTS["gateway"]),
                "METRICS_PORT": str(bench.PORTS["gateway_metrics"]),
                "HOST": "127.0.0.1",
                "REDIS_URL": f"redis://127.0.0.1:{bench.PORTS['redis']}/0",
                "BILLING_URL": upstream,
                "AUTH_URL": "http://127.0.0.1:9",
                "PDF_URL": upstream,
                "RATE_LIMIT_DEFAULT": "1000000000",
                "ENVIRONMENT": "development",
                "PROBE_OUT": str(probe),
            }
            gateway_process = bench.start([python, str(HERE / "probed_gateway.py")], env=env)
            processes.append(gateway_process)
            for port in ("upstream", "gateway", "redis"):
                bench.wait_port(bench.PORTS[port])
            client = redis.Redis(port=bench.PORTS["redis"])
            bench.seed_token(client)
            client.config_set("slowlog-log-slower-than", SLOWLOG_US)
            direct = f"{upstream}{PATH}"
            gateway = f"http://127.0.0.1:{bench.PORTS['gateway']}{PATH}"
            bench.wrk(gateway, connections=8)  # warm up
            peak = bench.wrk(gateway)["rps"]
            for _ in range(PRELOAD):  # the state run.py's curves start from: after its rounds
                bench.wrk(gateway)
            half = peak / 2
            print(
                f"gateway peak {peak:.0f} req/s; paced at {half:.0f} req/s offered (quarter: "
                f"{half / 2:.0f}); 1-minute load {os.getloadavg()[0]:.1f}\n"
            )
            print(
                "| target | pacing | connections | p50 | p90 | p99 | p99.9 ms | GC passes (gen 2) | longest GC ms | loop stalls >= 1 ms | longest stall ms (of it running on a core) | waiting for a core, ms/s | Redis commands >= 2 ms (longest ms) |"
            )
            print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            cases = [
                ("upstream direct", direct, "poisson", 50, half / 2),
                ("full gateway", gateway, "poisson", 50, half / 2),
                ("upstream direct", direct, "fixed", 50),
                ("full gateway", gateway, "fixed", 50),
                ("upstream direct", direct, "poisson", 50),
                ("full gateway", gateway, "poisson", 50),
                ("full gateway", gateway, "fixed", 10),
                ("full gateway", gateway, "poisson", 10),
            ]
            for name, url, pacing, connections, *rate in cases:
                os.environ["PACING"] = pacing
                _slow_scripts(client)
                since, waited = time.time(), _runqueue_wait(gateway_process.pid)
                result = bench.wrk(url, rate=rate[0] if rate else half, connections=connections)
                slow, slowest = _slow_scripts(client)
                e = _events(probe, since, time.time())
                waited = (_runqueue_wait(gateway_process.pid) - waited) / (time.time() - since)
                probed = (
                    f"{e['gc']} ({e['gc2']}) | {e['gc_ms_max']:.2f} | {e['stalls']} | "
                    f"{e['stall_ms_max']:.2f} ({e['stall_ran_ms']:.2f}) | {waited * 1000:.0f} | {slow} ({slowest:.1f})"
                    if name == "full gateway"
                    else "- | - | - | - | - | -"
                )
                print(
                    f"| {name}{' (25 %)' if rate else ''} | {pacing} | {connections} | {result['p50_ms']:.2f} | "
                    f"{result['p90_ms']:.2f} | {result['p99_ms']:.2f} | {result['p99_9_ms']:.2f} | {probed} |"
                )
        finally:
            for process in processes:
                process.terminate()
            subprocess.run(["docker", "rm", "-f", "bench-redis"], capture_output=True)


if __name__ == "__main__":
    main()
