"""Each CPU cut of the gateway's request path alone: the work it changed, timed in a loop in
this tree and in a BASELINE commit's (each in a process of its own, one after the other, the
same inputs). On a shared machine a whole-process comparison cannot resolve a cut worth 2 %;
this can (it is CPU time of one function, µs per call, the best of several repeats).

    BASELINE=main uv run python bench/gateway/cuts.py

Prints a markdown table. The collector and the Redis round trips, the two cuts that are not
one function's, are counted by bench/gateway/cpu.py (passes and round trips per request).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BASELINE = os.environ.get("BASELINE", "main")
# A backend's answer as the bench's upstream and billing give it, and the guard's call.
RAW_HEADERS = [
    ("Content-Type", "application/json; charset=utf-8"),
    ("Content-Length", "68"),
    ("Date", "Mon, 07 Dec 2026 08:00:00 GMT"),
    ("Server", "Python/3.11 aiohttp/3.14.5"),
    ("X-Request-ID", "7d1f2a3b4c5d0"),
    ("ETag", '"33a64df551425fcc55e4d42a148795d9f25f89d4"'),
]
TOKEN = "1|benchsecretbenchsecretbenchsecretbench12"


def _best(call: Callable[[], object], number: int = 20_000, repeat: int = 7) -> float:
    """µs per call, the best of `repeat` loops (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for _ in range(number):
            call()
        best = min(best, time.process_time() - started)
    return best * 1e6 / number


def measure() -> dict[str, float]:
    """The cuts' work in whichever gateway is importable (this tree's, or PYTHONPATH's)."""
    from multidict import CIMultiDict
    from prometheus_client import CollectorRegistry

    from gateway import batcher, handlers, proxy, upstream_http
    from gateway.limits import Limits
    from gateway.routes import ROUTES
    from gateway.settings import Settings
    from shared.ratelimit import SLIDING_WINDOW_LUA, script_args

    limits = Limits(Settings())
    spec = next(spec for spec in ROUTES if spec.upstream == "billing" and spec.authenticated)
    script = batcher.ScriptBatcher(None, SLIDING_WINDOW_LUA, registry=CollectorRegistry())  # type: ignore[arg-type]
    key = "tok:" + "0" * 64

    def command() -> object:
        args = script_args(
            "abc123", limits.authenticated(spec), limits.anonymous("unauthenticated", "1.2.3.4")
        )
        if hasattr(script, "_command"):
            return script._command([key], args)
        from gateway.redis_pipe import pack

        return pack(("EVALSHA", "0" * 40, 1, key, *args))

    parse = getattr(handlers, "_parsed_token", None) or handlers.parse_token
    new_headers = hasattr(upstream_http, "_framing")

    def response_headers() -> object:
        if new_headers:
            return proxy._response_headers(RAW_HEADERS, {"X-RateLimit-Limit": "60"})
        return proxy._response_headers(CIMultiDict(RAW_HEADERS), {"X-RateLimit-Limit": "60"})

    return {
        "guard's EVALSHA: arguments and RESP packing": _best(command),
        "token: parse and hash the secret": _best(lambda: parse(TOKEN)),
        "the client's anonymous policy": _best(
            lambda: limits.anonymous("unauthenticated", "1.2.3.4")
        ),
        "upstream answer's headers: hygiene": _best(response_headers),
    }


def _run(pythonpath: str | None) -> dict[str, float]:
    env = os.environ | ({"PYTHONPATH": pythonpath} if pythonpath else {})
    done = subprocess.run(
        [sys.executable, __file__, "--measure"], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BASELINE, "gateway/src", "shared/src"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        before = _run(f"{tmp}/gateway/src:{tmp}/shared/src")
    after = _run(None)
    print(f"| work (µs per call, best of 7 x 20,000) | {BASELINE} | this tree | saved |")
    print("|---|---:|---:|---:|")
    for name, old in before.items():
        print(f"| {name} | {old:.2f} | {after[name]:.2f} | {old - after[name]:.2f} |")
    print(f"| total | {sum(before.values()):.2f} | {sum(after.values()):.2f} | "
          f"{sum(before.values()) - sum(after.values()):.2f} |")  # fmt: skip


if __name__ == "__main__":
    if "--measure" in sys.argv:
        print(json.dumps(measure()))
    else:
        main()
