"""CPU per request, side by side: the gateway against the bare aiohttp proxy (and, with
BASELINE=<commit>, against the gateway of that commit), each driven by the same wrk in turn,
every target once per round (BASELINE=a,b,...: several). The figure is the process's own CPU time (/proc/<pid>/stat)
over the requests it served: on a shared machine it moves far less than req/s, and the
ratio within a round cancels most of what the machine's load does to both.

    uv run python bench/gateway/cpu.py                       # needs wrk and Docker
    BASELINE=main ROUNDS=6 DURATION=6s uv run python bench/gateway/cpu.py
    PROFILE=gateway uv run --with py-spy python bench/gateway/cpu.py   # + where it goes
    RATE=1500 BASELINE=main uv run python bench/gateway/cpu.py   # latency at a paced rate

Ports 92xx and a Redis container of its own: it can run beside bench/gateway/run.py.
Prints a markdown table with the 1-minute load average of each round.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from statistics import median

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import run as bench
from spy import GATEWAY_PARTS, attribute, record, summarise

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PATH = "/api/v1/companies"
ROUNDS = int(os.environ.get("ROUNDS", "5"))
DURATION = os.environ.get("DURATION", "6s")
# Commits whose gateways are measured beside this tree's, comma-separated, each `commit` or
# `label=commit` (the label names it in the report).
BASELINES = dict(
    (entry.partition("=")[0], entry.partition("=")[2] or entry)
    for entry in os.environ.get("BASELINE", "").split(",")
    if entry
)
RATE = float(os.environ.get("RATE", "0"))  # req/s offered (poisson); 0: as fast as it goes
PROFILE = os.environ.get("PROFILE", "")  # a target name: py-spy it under load at the end
PORTS = {"upstream": 9201, "bare": 9202, "gateway": 9204, "redis": 9279}
PORTS |= {commit: 9210 + index for index, commit in enumerate(BASELINES)}
METRICS_PORTS = {"gateway": 9206} | {commit: 9230 + index for index, commit in enumerate(BASELINES)}
REDIS_NAME = f"bench-redis-cpu-{os.getpid()}"


def _start_redis() -> None:
    subprocess.run(
        ["docker", "run", "-d", "--rm", "--name", REDIS_NAME, *bench.redis_network(PORTS["redis"]),
         "--save", "", "--appendonly", "no", "--protected-mode", "no"],
        check=True, capture_output=True,
    )  # fmt: skip


def _baseline_tree(commit: str, into: Path) -> str:
    """The gateway and shared sources of `commit`, for PYTHONPATH (imported before the
    installed ones)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "gateway/src", "shared/src"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return f"{into / 'gateway' / 'src'}:{into / 'shared' / 'src'}"


def _gateway_env(name: str) -> dict[str, str]:
    upstream = f"http://127.0.0.1:{PORTS['upstream']}"
    return os.environ | {
        "PORT": str(PORTS[name]),
        "METRICS_PORT": str(METRICS_PORTS[name]),
        "HOST": "127.0.0.1",
        "REDIS_URL": f"redis://127.0.0.1:{PORTS['redis']}/0",
        "BILLING_URL": upstream,
        "AUTH_URL": "http://127.0.0.1:9",
        "PDF_URL": upstream,
        "RATE_LIMIT_DEFAULT": "1000000000",
        "ENVIRONMENT": "development",
    }


def _wrk(url: str) -> dict[str, float]:
    """Peak load, or with RATE the same offered rate (poisson) to every target."""
    script = "paced.lua" if RATE else "headers.lua"
    env = os.environ | {"BENCH_TOKEN": bench.TOKEN, "RATE": str(RATE)}
    env |= {"CONNECTIONS": str(bench.CONNECTIONS), "THREADS": "1"}
    done = subprocess.run(
        ["wrk", "-t1", f"-c{bench.CONNECTIONS}", f"-d{DURATION}", "--latency", "-s",
         str(HERE / script), url],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    return bench.parse_wrk(done.stdout)


def _round_trips(name: str) -> float:
    if name not in METRICS_PORTS:
        return 0.0
    return bench.gateway_metric(METRICS_PORTS[name], "gateway_redis_round_trips_total")


def _collections(name: str) -> float:
    """The garbage collector's passes so far, all generations (prometheus' GC collector)."""
    if name not in METRICS_PORTS:
        return 0.0
    url = f"http://127.0.0.1:{METRICS_PORTS[name]}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    passes = re.findall(r"^python_gc_collections_total\{[^}]*\} ([\d.e+]+)$", text, re.M)
    return sum(float(count) for count in passes)


def _measure(name: str, url: str, pid: int) -> dict[str, float]:
    before, trips, collections = bench.cpu_seconds(pid), _round_trips(name), _collections(name)
    result = _wrk(url)
    served = result["requests"]
    result["cpu_us"] = (bench.cpu_seconds(pid) - before) * 1e6 / served
    result["redis_trips"] = (_round_trips(name) - trips) / served
    result["gc_per_1000"] = (_collections(name) - collections) * 1000 / served
    return result


def main() -> None:
    python = sys.executable
    processes: list[subprocess.Popen[bytes]] = []
    pids: dict[str, int] = {}
    _start_redis()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            upstream = f"http://127.0.0.1:{PORTS['upstream']}"
            processes.append(
                bench.start([python, str(HERE / "upstream.py"), str(PORTS["upstream"])])
            )
            bare = bench.start([python, str(HERE / "bare_proxy.py"), str(PORTS["bare"]), upstream])
            processes.append(bare)
            pids["bare"] = bare.pid
            gateway = bench.start([python, "-m", "gateway"], env=_gateway_env("gateway"))
            processes.append(gateway)
            pids["gateway"] = gateway.pid
            for label, commit in BASELINES.items():
                env = _gateway_env(label)
                tree = Path(tmp) / f"baseline-{len(pids)}"
                tree.mkdir()
                env["PYTHONPATH"] = _baseline_tree(commit, tree)
                baseline = bench.start([python, "-m", "gateway"], env=env)
                processes.append(baseline)
                pids[label] = baseline.pid
            for name in ("upstream", "redis", *pids):
                bench.wait_port(PORTS[name], timeout=180)
            bench.seed_token(redis.Redis(port=PORTS["redis"]))
            urls = {name: f"http://127.0.0.1:{PORTS[name]}{PATH}" for name in pids}
            for name, url in urls.items():  # warm-up, and every target answers 200
                warm = _wrk(url)
                if warm["non_2xx"]:
                    raise RuntimeError(f"{name} answered {warm['non_2xx']:.0f} non-2xx")
            rounds = []
            for _ in range(ROUNDS):
                load = os.getloadavg()[0]
                rounds.append({name: _measure(name, url, pids[name]) for name, url in urls.items()})
                rounds[-1]["load"] = {"cpu_us": load}
            print(_report(rounds, list(pids)))
            if PROFILE:
                raw = Path(tmp) / "profile.txt"
                spy = record(pids[PROFILE], 8, raw)
                time.sleep(1)
                _wrk(urls[PROFILE])
                spy.wait(timeout=60)
                print(f"\npy-spy of {PROFILE}:\n{summarise(raw, top=40)}")
                cpu_us = median(r[PROFILE]["cpu_us"] for r in rounds)
                print(f"\n| part of {PROFILE} | share | µs of {cpu_us:.0f} |\n|---|---:|---:|")
                for part, share in attribute(raw, GATEWAY_PARTS).items():
                    print(f"| {part} | {100 * share:.1f} % | {share * cpu_us:.1f} |")
                if os.environ.get("PROFILE_KEEP"):
                    Path(os.environ["PROFILE_KEEP"]).write_bytes(raw.read_bytes())
    finally:
        for process in processes:
            process.terminate()
        subprocess.run(["docker", "rm", "-f", REDIS_NAME], capture_output=True)


def _report(rounds: list[dict[str, dict[str, float]]], names: list[str]) -> str:
    header = " | ".join(f"{name} µs/req | {name} req/s" for name in names)
    ratios = [name for name in names if name != "bare"]
    lines = [
        f"wrk -t1 -c{bench.CONNECTIONS} -d{DURATION}, {len(rounds)} rounds, every target once "
        "per round; CPU is each process's own (user + system) per request.",
        "",
        f"| round | load | {header} | "
        + " | ".join(f"{name} / bare CPU" for name in ratios)
        + " |",
        "|---" * (2 + 2 * len(names) + len(ratios)) + "|",
    ]
    for index, r in enumerate(rounds, start=1):
        cells = " | ".join(f"{r[n]['cpu_us']:.0f} | {r[n]['rps']:.0f}" for n in names)
        ratio_cells = " | ".join(f"{r[n]['cpu_us'] / r['bare']['cpu_us']:.2f}" for n in ratios)
        lines.append(f"| {index} | {r['load']['cpu_us']:.1f} | {cells} | {ratio_cells} |")
    lines.append("")
    for name in names:
        cpu = [r[name]["cpu_us"] for r in rounds]
        lines.append(f"- {name}: CPU per request {bench.spread(cpu, 0)} µs (min / median / max)")
        for percentile in ("p50", "p99", "p99_9"):
            at = [r[name][f"{percentile}_ms"] for r in rounds if f"{percentile}_ms" in r[name]]
            if at:
                lines.append(f"- {name}: {percentile} {bench.spread(at)} ms")
        if name in METRICS_PORTS:
            trips = [r[name]["redis_trips"] for r in rounds]
            lines.append(f"- {name}: Redis round trips per request {bench.spread(trips, 3)}")
            passes = [r[name]["gc_per_1000"] for r in rounds]
            lines.append(f"- {name}: collector passes per 1,000 requests {bench.spread(passes, 1)}")
    for name in ratios:
        ratio = [r[name]["cpu_us"] / r["bare"]["cpu_us"] for r in rounds]
        rps = [r[name]["rps"] / r["bare"]["rps"] for r in rounds]
        lines.append(
            f"- {name} / bare: CPU per request **{bench.spread(ratio)}x**, req/s {bench.spread(rps)}x"
        )
    for commit in BASELINES:
        ratio = [r["gateway"]["cpu_us"] / r[commit]["cpu_us"] for r in rounds]
        lines.append(f"- gateway / {commit}: CPU per request {bench.spread(ratio)}x")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
