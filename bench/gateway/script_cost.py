"""The rate-limit script's cost inside Redis, by Redis' own count: `INFO commandstats`
(usec_per_call of EVALSHA, the commands it runs included) and `INFO cpu` (the server's CPU
time per request decided), for the guard's cached, authenticated requests with the gateway's
arguments, at the documented limit (60 / 60 s over 2,000 users: small sorted sets, a batch's
requests each of another user) and at the bench's (10^9 for one user, as bench/gateway/run.py:
every request of the last minute kept, a batch's requests all of that user).
BASELINE=<commit> measures that commit's script beside this tree's (a script of before the
batched calls is called once per request, pipelined, as the batcher of then did).

    uv run python bench/gateway/script_cost.py        # needs Docker; prints a markdown table
    BATCH=64 uv run python bench/gateway/script_cost.py

A Redis container of its own on port 9389; BATCH requests (10: the gateway's usual batch at
peak, 0.1 round trips per request) per round trip.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import redis

from shared.ids import unique_id
from shared.ratelimit import SLIDING_WINDOW_LUA, Policy, script_arguments, script_record

ROOT = Path(__file__).resolve().parents[2]

PORT = 9389
CALLS = int(os.environ.get("CALLS", "60000"))
BATCH = int(os.environ.get("BATCH", "10"))
REPEATS = int(os.environ.get("REPEATS", "5"))  # the scripts in turn; the best of each kept
BASELINE = os.environ.get("BASELINE", "")
# At the documented limit, calls spread over this many users (tokens) stay admitted, as a
# real user's do; at the bench's, one user as in bench/gateway/run.py.
USERS = {60: 2000, 1_000_000_000: 1}


def _token_key(user: int) -> str:
    return "tok:" + hashlib.sha256(f"secret{user}".encode()).hexdigest()


def _script_of(commit: str) -> str:
    source = subprocess.run(
        ["git", "show", f"{commit}:shared/src/shared/ratelimit.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    namespace: dict[str, object] = {}
    start = source.index("SLIDING_WINDOW_LUA = ")
    end = source.index('"""\n', source.index('r"""', start) + 4) + 4
    exec(source[start:end], namespace)  # our own file at a commit
    return str(namespace["SLIDING_WINDOW_LUA"])


def _measure(client: redis.Redis, script: str, limit: int) -> dict[str, float]:
    client.flushall()
    users = USERS[limit]
    for user in range(users):
        client.set(_token_key(user), f"{user}\n1\nbench.identity.jwt")
    keys = [_token_key(n % users) for n in range(CALLS)]
    sha = client.script_load(script)
    policies = [Policy("default", "rl:user:{sub}", limit, 60)]
    anonymous = [Policy("unauthenticated", "rl:ip:unauthenticated:127.0.0.1", 60, 60)]
    record = script_record(policies, anonymous)
    batched = "local member = ARGV[1]" not in script  # before: one call per request

    def decide(batch: list[str]) -> list[list[bytes]]:
        pipe = client.pipeline(transaction=False)
        if batched:
            args = script_arguments(unique_id(), [record] * len(batch))
            pipe.evalsha(sha, len(batch), *batch, *args)
            return pipe.execute()[0]
        for key in batch:
            pipe.evalsha(sha, 1, key, unique_id(), *record)
        return pipe.execute()

    decide(keys[-BATCH:])  # users the measured calls reach last
    client.config_resetstat()
    cpu_before = _cpu(client)
    for start in range(0, CALLS, BATCH):
        replies = decide(keys[start : start + BATCH])
        assert all(reply[0] == b"ok" and reply[2] == 1 for reply in replies), replies[0]
    cpu = _cpu(client) - cpu_before
    stats = client.info("commandstats")
    calls = CALLS
    inner = sum(
        value["usec"]
        for name, value in stats.items()
        if name not in ("cmdstat_evalsha", "cmdstat_info", "cmdstat_config|resetstat")
    )
    return {
        "usec_per_call": stats["cmdstat_evalsha"]["usec"] / calls,
        "inner_usec_per_call": inner / calls,
        "cpu_us_per_call": cpu * 1e6 / calls,
        "commands_per_call": sum(
            value["calls"]
            for name, value in stats.items()
            if name not in ("cmdstat_evalsha", "cmdstat_info", "cmdstat_config|resetstat")
        )
        / calls,
    }


def _cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def main() -> None:
    subprocess.run(["docker", "rm", "-f", "bench-redis-script"], capture_output=True)
    subprocess.run(
        ["docker", "run", "-d", "--rm", "--name", "bench-redis-script", "-p",
         f"127.0.0.1:{PORT}:6379", "redis:7", "redis-server", "--save", "", "--appendonly",
         "no", "--protected-mode", "no"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        client = redis.Redis(port=PORT)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                subprocess.run(["sleep", "0.1"], check=True)
        scripts = {"this tree": SLIDING_WINDOW_LUA}
        for commit in filter(None, BASELINE.split(",")):
            scripts[commit] = _script_of(commit)
        print(
            f"{CALLS} requests each, {BATCH} per round trip, the best of {REPEATS} runs "
            "(scripts in turn); 1-minute load "
            f"{os.getloadavg()[0]:.1f}\n"
        )
        print(
            "| script | limit | EVALSHA µs per request | of which its commands | server CPU µs per request | commands per request |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for limit in (60, 1_000_000_000):
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in scripts}
            for _ in range(REPEATS):
                for name, script in scripts.items():
                    runs[name].append(_measure(client, script, limit))
            for name, measured in runs.items():
                m = min(measured, key=lambda run: run["cpu_us_per_call"])
                print(
                    f"| {name} | {limit} | {m['usec_per_call']:.2f} | "
                    f"{m['inner_usec_per_call']:.2f} | {m['cpu_us_per_call']:.2f} | "
                    f"{m['commands_per_call']:.1f} |"
                )
    finally:
        subprocess.run(["docker", "rm", "-f", "bench-redis-script"], capture_output=True)


if __name__ == "__main__":
    main()
