"""Gateway benchmark: the full gateway against a bare aiohttp proxy, nginx and the upstream
called directly, measured side by side in one run with wrk (same connections and duration).

    uv run python bench/gateway/run.py            # needs wrk, nginx (Debian) and Docker

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
import urllib.request
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
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


def wrk(url: str, *, rate: float = 0, connections: int = CONNECTIONS) -> dict[str, float]:
    env = os.environ | {
        "BENCH_TOKEN": TOKEN,
        "RATE": str(rate),
        "CONNECTIONS": str(connections),
        "THREADS": "1",
    }
    script = HERE / ("paced.lua" if rate else "headers.lua")
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{DURATION}", "--latency", "-s", str(script), url],
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


def start(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def micro_benchmark(processes: list[subprocess.Popen[bytes]], tmp: Path) -> dict[str, object]:
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
            "-p",
            f"127.0.0.1:{PORTS['redis']}:6379",
            "redis:7",
            "redis-server",
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
    processes.append(start([python, str(HERE / "upstream.py"), str(PORTS["upstream"])]))
    upstream = f"http://127.0.0.1:{PORTS['upstream']}"
    processes.append(start([python, str(HERE / "bare_proxy.py"), str(PORTS["bare"]), upstream]))
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=tmp, upstream=PORTS["upstream"], port=PORTS["nginx"]))
    processes.append(start(["nginx", "-c", str(conf), "-g", "daemon off;"]))
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
    processes.append(start([python, "-m", "gateway"], env=gateway_env))
    # The same gateway as deployed with one process per core (WORKERS=2 on this machine).
    two_workers = gateway_env | {
        "PORT": str(PORTS["gateway2"]),
        "METRICS_PORT": str(PORTS["gateway2_metrics"]),
        "WORKERS": "2",
    }
    processes.append(start([python, "-m", "gateway"], env=two_workers))
    for port in PORTS.values():
        wait_port(port)
    client = redis.Redis(port=PORTS["redis"])
    # The token is cached as the gateway caches an introspection: `<user id>\n<identity JWT>`.
    key = f"tok:1:{hashlib.sha256(SECRET.encode()).hexdigest()}"
    client.set(key, "1\nbench.identity.jwt", ex=3600)
    path = "/api/v1/companies"
    targets = {
        "upstream direct": f"{upstream}{path}",
        "nginx proxy": f"http://127.0.0.1:{PORTS['nginx']}{path}",
        "bare aiohttp proxy": f"http://127.0.0.1:{PORTS['bare']}{path}",
        "full gateway": f"http://127.0.0.1:{PORTS['gateway']}{path}",
        "full gateway, 2 workers": f"http://127.0.0.1:{PORTS['gateway2']}{path}",
    }
    for url in targets.values():  # warm up connections and code paths
        subprocess.run(
            ["wrk", "-t1", "-c8", "-d2s", "-s", str(HERE / "headers.lua"), url],
            capture_output=True,
            env=os.environ | {"BENCH_TOKEN": TOKEN},
            check=True,
        )
    results: dict[str, dict[str, float]] = {}
    for name, url in targets.items():
        if name == "full gateway":
            calls_before = evalsha_calls(client)
            trips_before = gateway_metric(
                PORTS["gateway_metrics"], "gateway_redis_round_trips_total"
            )
        results[name] = wrk(url)
        if name == "full gateway":
            served = results[name]["requests"]
            calls = evalsha_calls(client) - calls_before
            trips = gateway_metric(PORTS["gateway_metrics"], "gateway_redis_round_trips_total")
            results[name]["redis_script_calls_per_request"] = calls / served
            results[name]["redis_round_trips_per_request"] = (trips - trips_before) / served
    gateway = results["full gateway"]
    half = gateway["rps"] / 2
    paced = {
        "upstream direct": wrk(targets["upstream direct"], rate=half),
        "full gateway": wrk(targets["full gateway"], rate=half),
    }
    return {"peak": results, "half_peak_rate": half, "half_peak": paced}


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


def report(micro: dict[str, object], e2e: dict[str, float] | None) -> str:
    peak = micro["peak"]
    assert isinstance(peak, dict)
    lines = [
        f"wrk -t1 -c{CONNECTIONS} -d{DURATION}, one process each, 2 cores shared by all.",
        "",
        "| target | req/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, result in peak.items():
        lines.append(
            f"| {name} | {result['rps']:.0f} | {result['p50_ms']:.2f} | {result['p99_ms']:.2f} |"
        )
    gateway, bare = peak["full gateway"], peak["bare aiohttp proxy"]
    nginx = peak["nginx proxy"]
    lines += [
        "",
        f"- full gateway / bare aiohttp proxy: **{gateway['rps'] / bare['rps']:.2f}x** (target >= 0.9x)",
        f"- full gateway / nginx: {gateway['rps'] / nginx['rps']:.2f}x; bare proxy / nginx: {bare['rps'] / nginx['rps']:.2f}x",
        f"- Redis script calls per request: {gateway['redis_script_calls_per_request']:.3f}; "
        f"Redis round trips per request (pipelined): {gateway['redis_round_trips_per_request']:.3f} (target <= 1)",
    ]
    half = micro["half_peak"]
    assert isinstance(half, dict)
    added = half["full gateway"]["p99_ms"] - half["upstream direct"]["p99_ms"]
    lines.append(
        f"- at half of the gateway's peak ({micro['half_peak_rate']:.0f} req/s offered): p99 direct "
        f"{half['upstream direct']['p99_ms']:.2f} ms, through the gateway {half['full gateway']['p99_ms']:.2f} ms: "
        f"**added p99 {added:.2f} ms** (target <= 5 ms)"
    )
    if e2e:
        lines += [
            "",
            "GET /api/v1/companies end to end (compose stack: gateway -> billing-service -> PostgreSQL):",
            f"{e2e['rps']:.0f} req/s, p50 {e2e['p50_ms']:.2f} ms, p99 {e2e['p99_ms']:.2f} ms, "
            f"non-2xx {e2e['non_2xx']}, Redis script calls per request {e2e['redis_script_calls_per_request']:.3f}",
        ]
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
