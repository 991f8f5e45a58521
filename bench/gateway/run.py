"""Gateway benchmark: the full gateway against a bare aiohttp proxy, nginx and the upstream
called directly, measured side by side in one run with wrk (same connections and duration).

    uv run python bench/gateway/run.py            # needs wrk, nginx (Debian) and Docker
    RUNS=5 DURATION=10s SKIP_E2E=1 PROFILE=1 uv run --with py-spy python bench/gateway/run.py

RUNS rounds of the peak table (every target once per round: ratios are taken within a
round), one worker against WORKERS=2 with wrk pinned to a core of its own, the added p99 at
half of the gateway's median peak, and with PROFILE=1 a py-spy profile of the gateway.

Then the same for GET /api/v1/companies end to end through the compose stack.
Prints a markdown report and writes bench/out/gateway.json. Loopback only, bounded in time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from statistics import median
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from processes import cpu_seconds, whole_box
from spy import record, summarise
from wrk import parse_wrk

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "bench" / "out"
PORTS = {
    "upstream": 9101,
    "bare": 9102,
    "nginx": 9103,
    "gateway": 9104,
    "gateway2": 9105,
    "gateway_metrics": 9106,
    "gateway2_metrics": 9107,
    "redis": 9379,
}
CONNECTIONS = int(os.environ.get("CONNECTIONS", "50"))
DURATION = os.environ.get("DURATION", "10s")
RUNS = int(os.environ.get("RUNS", "5"))  # rounds of the peak table (min/median/max)
# PROFILE=1: py-spy the one-worker gateway under load (PROFILE=bare: the bare proxy).
PROFILE = os.environ.get("PROFILE", "")
LOAD_CPU = "1"  # the core wrk is pinned to for the worker comparison
SECRET = "benchsecretbenchsecretbenchsecretbench12"
TOKEN = f"1|{SECRET}"
NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  upstream app {{ server 127.0.0.1:{upstream}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
  }}
}}
"""


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open")


def wrk(
    url: str, *, rate: float = 0, connections: int = CONNECTIONS, cpu: str | None = None
) -> dict[str, float]:
    """wrk against `url`; `cpu` pins the load generator to that core (taskset)."""
    env = os.environ | {
        "BENCH_TOKEN": TOKEN,
        "RATE": str(rate),
        "CONNECTIONS": str(connections),
        "THREADS": "1",
    }
    script = HERE / ("paced.lua" if rate else "headers.lua")
    pin = ["taskset", "-c", cpu] if cpu is not None else []
    command = ["wrk", "-t1", f"-c{connections}", f"-d{DURATION}", "--latency", "-s", str(script)]
    done = subprocess.run(
        [*pin, *command, url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return parse_wrk(done.stdout)


def gateway_metric(port: int, name: str) -> float:
    """A counter from the gateway's internal metrics port (its public one serves none)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    match = re.search(rf"^{name} ([\d.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def evalsha_calls(client: redis.Redis) -> int:
    return int(client.info("commandstats").get("cmdstat_evalsha", {"calls": 0})["calls"])


def seed_token(client: redis.Redis) -> None:
    """The token cached as the gateway caches an introspection, under its secret's hash:
    `<user id>\n<token id>\n<identity JWT>` (a stale key or blob would measure 503s)."""
    key = f"tok:{hashlib.sha256(SECRET.encode()).hexdigest()}"
    client.set(key, "1\n1\nbench.identity.jwt", ex=3600)


def start(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The bench's Redis listens on the host's loopback (127.0.0.1 only, the container on the host
# network): through a published port every round trip would pass Docker's userland proxy, a
# process the compose stack does not have between the gateway and Redis (it cost the gateway
# 10 µs of the box's CPU per request: bench/RESULTS.md 2026-12-07, third round).
# REDIS_NETWORK=published: the published port, as the bench had it before.
REDIS_NETWORK = os.environ.get("REDIS_NETWORK", "host")


def redis_network(port: int = PORTS["redis"]) -> list[str]:
    """`docker run` arguments up to the server's own: its network and address."""
    if REDIS_NETWORK == "host":
        return ["--network", "host", "redis:7", "redis-server", "--bind", "127.0.0.1",
                "--port", str(port)]  # fmt: skip
    return ["-p", f"127.0.0.1:{port}:6379", "redis:7", "redis-server"]


def micro_benchmark(processes: list[subprocess.Popen[bytes]], tmp: Path) -> dict[str, Any]:
    python = sys.executable
    subprocess.run(["docker", "rm", "-f", "bench-redis"], capture_output=True)
    subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--rm",
            "--name",
            "bench-redis",
            *redis_network(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
        ],
        check=True,
        capture_output=True,
    )
    upstream_process = start([python, str(HERE / "upstream.py"), str(PORTS["upstream"])])
    processes.append(upstream_process)
    upstream = f"http://127.0.0.1:{PORTS['upstream']}"
    bare_process = start([python, str(HERE / "bare_proxy.py"), str(PORTS["bare"]), upstream])
    processes.append(bare_process)
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=tmp, upstream=PORTS["upstream"], port=PORTS["nginx"]))
    nginx_process = start(["nginx", "-c", str(conf), "-g", "daemon off;"])
    processes.append(nginx_process)
    gateway_env = os.environ | {
        "PORT": str(PORTS["gateway"]),
        "METRICS_PORT": str(PORTS["gateway_metrics"]),
        "HOST": "127.0.0.1",
        "REDIS_URL": f"redis://127.0.0.1:{PORTS['redis']}/0",
        "BILLING_URL": upstream,
        "AUTH_URL": "http://127.0.0.1:9",
        "PDF_URL": upstream,
        "RATE_LIMIT_DEFAULT": "1000000000",
        "ENVIRONMENT": "development",
    }
    gateway_process = start([python, "-m", "gateway"], env=gateway_env)
    processes.append(gateway_process)
    # The same gateway as deployed with one process per core (WORKERS=2 on this machine).
    two_workers = gateway_env | {
        "PORT": str(PORTS["gateway2"]),
        "METRICS_PORT": str(PORTS["gateway2_metrics"]),
        "WORKERS": "2",
    }
    gateway2_process = start([python, "-m", "gateway"], env=two_workers)
    processes.append(gateway2_process)
    for port in PORTS.values():
        wait_port(port)
    client = redis.Redis(port=PORTS["redis"])
    seed_token(client)
    path = "/api/v1/companies"
    targets = {
        "upstream direct": f"{upstream}{path}",
        "nginx proxy": f"http://127.0.0.1:{PORTS['nginx']}{path}",
        "bare aiohttp proxy": f"http://127.0.0.1:{PORTS['bare']}{path}",
        "full gateway": f"http://127.0.0.1:{PORTS['gateway']}{path}",
        "full gateway, 2 workers": f"http://127.0.0.1:{PORTS['gateway2']}{path}",
    }
    for name, url in targets.items():  # every target answers 200 before it is measured
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
        try:
            urllib.request.urlopen(request, timeout=10).read()
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{name} answered {error.code}: {error.read()[:300]!r}") from None
    for url in targets.values():  # warm up connections and code paths
        subprocess.run(
            ["wrk", "-t1", "-c8", "-d2s", "-s", str(HERE / "headers.lua"), url],
            capture_output=True,
            env=os.environ | {"BENCH_TOKEN": TOKEN},
            check=True,
        )
    pids = {"bare aiohttp proxy": bare_process.pid, "full gateway": gateway_process.pid}
    # Every process on the box that serves a request, for the whole-box CPU table.
    serving = {
        "upstream": upstream_process.pid,
        "nginx": nginx_process.pid,
        "bare aiohttp proxy": bare_process.pid,
        "full gateway": gateway_process.pid,
        "full gateway, 2 workers": gateway2_process.pid,
    }
    if (proxy := docker_proxy_pid(PORTS["redis"])) is not None:
        serving["docker-proxy (Redis)"] = proxy
    load_averages = [os.getloadavg()[0]]
    rounds = []
    for _ in range(RUNS):
        rounds.append(peak_round(targets, client, pids, serving))
        load_averages.append(os.getloadavg()[0])
    # One worker against two, the load generator alone on its core (both in one round).
    pinned = [
        {
            "1 worker": wrk(targets["full gateway"], cpu=LOAD_CPU),
            "2 workers": wrk(targets["full gateway, 2 workers"], cpu=LOAD_CPU),
        }
        for _ in range(RUNS)
    ]
    peak = median([r["full gateway"]["rps"] for r in rounds])
    # Latency curves at a share of the gateway's peak, arrivals independent (poisson), and
    # at half of it with the connections in step (fixed: the bench's pacing until 2026-12-07).
    curves = {
        f"{share}%": {
            name: wrk(targets[name], rate=peak * share / 100)
            for name in ("upstream direct", "full gateway")
        }
        for share in (25, 50, 75)
    }
    os.environ["PACING"] = "fixed"
    in_step = {
        name: wrk(targets[name], rate=peak / 2) for name in ("upstream direct", "full gateway")
    }
    del os.environ["PACING"]
    profile = None
    if PROFILE:
        raw = OUT / "gateway-profile.txt"
        name = "bare aiohttp proxy" if PROFILE == "bare" else "full gateway"
        spy = record(pids[name], 8, raw)
        time.sleep(1)  # py-spy attaches
        wrk(targets[name])
        spy.wait(timeout=60)
        profile = summarise(raw)
    return {
        "rounds": rounds,
        "pinned": pinned,
        "half_peak_rate": peak / 2,
        "half_peak": curves["50%"],
        "curves": curves,
        "half_peak_in_step": in_step,
        "load_average": load_averages,
        "profile": profile,
    }


def docker_proxy_pid(port: int) -> int | None:
    """Docker's userland proxy for a published port, when Docker runs one: the guard's
    Redis round trips pass through it."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args[0].endswith(b"docker-proxy") and str(port).encode() in args:
            return int(entry.name)
    return None


def peak_round(
    targets: dict[str, str], client: redis.Redis, pids: dict[str, int], serving: dict[str, int]
) -> dict[str, dict[str, float]]:
    """Every target once, in the same order, with the same wrk settings. For the Python
    proxies also the CPU time they spent per request: unlike req/s, it barely depends on
    what else the two cores are running."""
    results: dict[str, dict[str, float]] = {}
    for name, url in targets.items():
        calls_before = evalsha_calls(client)
        trips_before = gateway_metric(PORTS["gateway_metrics"], "gateway_redis_round_trips_total")
        cpu_before = cpu_seconds(pids[name]) if name in pids else 0.0
        box_before = whole_box(serving, client)
        results[name] = wrk(url)
        box_after = whole_box(serving, client)
        results[name]["whole_box_us"] = {  # type: ignore[assignment]
            part: (box_after[part] - box_before[part]) * 1e6 / results[name]["requests"]
            for part in box_after
        }
        if name in pids:
            spent = cpu_seconds(pids[name]) - cpu_before
            results[name]["cpu_us_per_request"] = spent * 1e6 / results[name]["requests"]
        if name == "full gateway":
            served = results[name]["requests"]
            calls = evalsha_calls(client) - calls_before
            trips = gateway_metric(PORTS["gateway_metrics"], "gateway_redis_round_trips_total")
            results[name]["redis_script_calls_per_request"] = calls / served
            results[name]["redis_round_trips_per_request"] = (trips - trips_before) / served
    return results


def end_to_end() -> dict[str, float]:
    """GET /api/v1/companies through the real compose stack (gateway -> billing -> Postgres)."""
    port = 18090
    env = os.environ | {
        "COMPOSE_PROJECT_NAME": "invoicing-bench",
        "GATEWAY_PORT": str(port),
        "RATE_LIMIT_DEFAULT": "1000000000",
    }
    compose = ["docker", "compose", "-f", str(ROOT / "docker-compose.yml")]
    subprocess.run(
        [*compose, "up", "-d", "--build", "--wait"],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        login = json.dumps(
            {"email": "demo@example.com", "password": "demo-password", "device_name": "bench"}
        ).encode()
        request = urllib.request.Request(
            f"{base}/api/v1/login", data=login, headers={"Content-Type": "application/json"}
        )
        token = json.load(urllib.request.urlopen(request, timeout=10))["token"]
        for index in range(3):
            create = urllib.request.Request(
                f"{base}/api/v1/companies",
                data=json.dumps({"name": f"Bench {index}"}).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            urllib.request.urlopen(create, timeout=10)
        global TOKEN
        saved, TOKEN = TOKEN, token
        try:
            subprocess.run(
                [
                    "wrk",
                    "-t1",
                    "-c8",
                    "-d2s",
                    "-s",
                    str(HERE / "headers.lua"),
                    f"{base}/api/v1/companies",
                ],
                capture_output=True,
                env=os.environ | {"BENCH_TOKEN": token},
                check=True,
            )
            before = _compose_evalsha(compose, env)
            result = wrk(f"{base}/api/v1/companies")
            result["redis_script_calls_per_request"] = (
                _compose_evalsha(compose, env) - before
            ) / result["requests"]
        finally:
            TOKEN = saved
        return result
    finally:
        subprocess.run([*compose, "down", "-v", "-t", "2"], env=env, capture_output=True)


def _compose_evalsha(compose: list[str], env: dict[str, str]) -> int:
    done = subprocess.run(
        [*compose, "exec", "-T", "redis", "redis-cli", "INFO", "commandstats"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"cmdstat_evalsha:calls=(\d+)", done.stdout)
    return int(match.group(1)) if match else 0


def spread(values: list[float], digits: int = 2) -> str:
    """min / median / max."""
    return " / ".join(f"{v:.{digits}f}" for v in (min(values), median(values), max(values)))


PROXY_OF = {  # the process a target's requests pass through besides the upstream
    "nginx proxy": "nginx",
    "bare aiohttp proxy": "bare aiohttp proxy",
    "full gateway": "full gateway",
    "full gateway, 2 workers": "full gateway, 2 workers",
}


def whole_box_table(rounds: list[dict[str, Any]]) -> list[str]:
    """CPU µs per request of each process a request passes through, medians over rounds;
    cores busy = the box's CPU over the wall time (2 = saturated)."""
    lines = [
        "CPU per request of every process in the same run (µs, median of the rounds; the box: "
        "all CPU used on the machine over the requests served, others' work included):",
        "",
        "| target | req/s | wrk | upstream | Redis server | docker-proxy (Redis) | the proxy | sum "
        "| the box | cores busy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in rounds[0]:
        parts = [r[name]["whole_box_us"] for r in rounds]
        rps = median(r[name]["rps"] for r in rounds)

        def us(part: str, parts: list[dict[str, float]] = parts) -> float:
            return median(p[part] for p in parts)

        proxy = us(PROXY_OF[name]) if name in PROXY_OF else 0.0
        docker = us("docker-proxy (Redis)") if "docker-proxy (Redis)" in parts[0] else 0.0
        mine = us("wrk") + us("upstream") + us("redis") + docker + proxy
        lines.append(
            f"| {name} | {rps:.0f} | {us('wrk'):.0f} | {us('upstream'):.0f} | "
            f"{us('redis'):.1f} | {docker:.1f} | {proxy:.0f} | {mine:.0f} | {us('box'):.0f} | "
            f"{us('box') * rps / 1e6:.2f} |"
        )
    return lines


def report(micro: dict[str, Any], e2e: dict[str, float] | None) -> str:
    rounds: list[dict[str, dict[str, float]]] = micro["rounds"]
    lines = [
        f"wrk -t1 -c{CONNECTIONS} -d{DURATION}, one process each unless said, 2 cores shared by "
        f"all; {len(rounds)} rounds, every target once per round. Medians, then min / median / "
        "max of req/s.",
        "",
        "| target | req/s | p50 ms | p99 ms | req/s min / median / max | non-2xx |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for name in rounds[0]:
        runs = [r[name] for r in rounds]
        rps = [run["rps"] for run in runs]
        lines.append(
            f"| {name} | {median(rps):.0f} | {median(r['p50_ms'] for r in runs):.2f} | "
            f"{median(r['p99_ms'] for r in runs):.2f} | {spread(rps, 0)} | "
            f"{sum(r['non_2xx'] for r in runs):.0f} |"
        )

    def ratio(a: str, b: str) -> str:
        return spread([r[a]["rps"] / r[b]["rps"] for r in rounds])

    cpu = {
        name: [r[name]["cpu_us_per_request"] for r in rounds]
        for name in ("bare aiohttp proxy", "full gateway")
    }
    cpu_ratio = [g / b for g, b in zip(cpu["full gateway"], cpu["bare aiohttp proxy"], strict=True)]
    scripts = [r["full gateway"]["redis_script_calls_per_request"] for r in rounds]
    trips = [r["full gateway"]["redis_round_trips_per_request"] for r in rounds]
    lines += [
        "",
        f"- full gateway / bare aiohttp proxy: **{ratio('full gateway', 'bare aiohttp proxy')}x** "
        "(min / median / max, each ratio within one round; target >= 0.9x)",
        f"- CPU per request (the process's own, µs): bare proxy {spread(cpu['bare aiohttp proxy'], 0)}, "
        f"full gateway {spread(cpu['full gateway'], 0)}; gateway / bare **{spread(cpu_ratio)}x**",
        f"- full gateway / nginx: {ratio('full gateway', 'nginx proxy')}x; bare proxy / nginx: "
        f"{ratio('bare aiohttp proxy', 'nginx proxy')}x",
        f"- Redis script calls per request: {spread(scripts, 3)}; round trips per request "
        f"(pipelined): {spread(trips, 3)} (target <= 1)",
    ]
    lines += ["", *whole_box_table(rounds)]
    pinned: list[dict[str, dict[str, float]]] = micro["pinned"]
    one = [p["1 worker"]["rps"] for p in pinned]
    two = [p["2 workers"]["rps"] for p in pinned]
    lines.append(
        f"- wrk pinned to core {LOAD_CPU} (taskset): 1 worker {spread(one, 0)} req/s, "
        f"WORKERS=2 {spread(two, 0)} req/s; 2 workers / 1 worker "
        f"**{spread([t / o for t, o in zip(two, one, strict=True)])}x**"
    )
    for label, half in (("poisson", micro["half_peak"]), ("fixed", micro["half_peak_in_step"])):
        added = half["full gateway"]["p99_ms"] - half["upstream direct"]["p99_ms"]
        lines.append(
            f"- at half of the gateway's median peak ({micro['half_peak_rate']:.0f} req/s "
            f"offered, {label} pacing): p99 direct {half['upstream direct']['p99_ms']:.2f} ms, "
            f"through the gateway {half['full gateway']['p99_ms']:.2f} ms: **added p99 "
            f"{added:.2f} ms** (target <= 5 ms)"
        )
    lines += [
        f"- 1-minute load average before and after each round: "
        f"{', '.join(f'{v:.2f}' for v in micro['load_average'])}",
        "",
        "| offered (share of the gateway's peak, poisson) | target | p50 | p90 | p99 | p99.9 ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for share, by_target in micro["curves"].items():
        for name, r in by_target.items():
            lines.append(
                f"| {share} | {name} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | "
                f"{r['p99_ms']:.2f} | {r['p99_9_ms']:.2f} |"
            )
    if e2e:
        lines += [
            "",
            "GET /api/v1/companies end to end (compose stack: gateway -> billing-service -> PostgreSQL):",
            f"{e2e['rps']:.0f} req/s, p50 {e2e['p50_ms']:.2f} ms, p99 {e2e['p99_ms']:.2f} ms, "
            f"non-2xx {e2e['non_2xx']}, Redis script calls per request {e2e['redis_script_calls_per_request']:.3f}",
        ]
    if micro["profile"]:
        lines += ["", f"py-spy ({PROFILE}) under the same load:", micro["profile"]]
    return "\n".join(lines)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            micro = micro_benchmark(processes, Path(tmp))
        finally:
            for process in processes:
                process.terminate()
            subprocess.run(["docker", "rm", "-f", "bench-redis"], capture_output=True)
    e2e = None if os.environ.get("SKIP_E2E") == "1" else end_to_end()
    text = report(micro, e2e)
    (OUT / "gateway.json").write_text(json.dumps({"micro": micro, "end_to_end": e2e}, indent=2))
    print(text)


if __name__ == "__main__":
    main()
