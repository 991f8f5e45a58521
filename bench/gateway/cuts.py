"""Each CPU cut of the gateway's request path alone: the work it changed, timed in a loop in
this tree and in a BASELINE commit's (each in a process of its own, one after the other, the
same inputs). On a shared machine a whole-process comparison cannot resolve a cut worth 2 %;
this can (it is CPU time of one function, µs per call, the best of several repeats).

    BASELINE=main uv run python bench/gateway/cuts.py

Prints a markdown table. The collector and the Redis round trips, the two cuts that are not
one function's, are counted by bench/gateway/cpu.py (passes and round trips per request).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

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
# One request's reply from the rate-limit script, as hiredis gives it (Lua numbers: ints).
DECISION_REPLY = [b"ok", b"1\n1\nbench.identity.jwt", 1, b"default", 60, 60000, 41,
                  1796630400000, 1796630390000]  # fmt: skip


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
    from shared import ratelimit
    from shared.ratelimit import SLIDING_WINDOW_LUA

    limits = Limits(Settings())
    spec = next(spec for spec in ROUTES if spec.upstream == "billing" and spec.authenticated)
    script = batcher.ScriptBatcher(None, SLIDING_WINDOW_LUA, registry=CollectorRegistry())  # type: ignore[arg-type]
    key = "tok:" + "0" * 64

    policies = limits.authenticated(spec)
    anonymous = limits.anonymous("unauthenticated", "1.2.3.4")

    def ten_requests() -> object:
        """The guard's Redis work for ten requests of one client going out together: each
        one's arguments packed, and the call (one EVALSHA per request before the batched
        script, one for all ten since)."""
        if hasattr(ratelimit, "script_record"):
            future = None
            batch = []
            for _ in range(10):
                record = ratelimit.script_record(policies, anonymous)
                batch.append((*script._packed_call(key, record), len(record), future))
            return script._command(batch)
        commands = []
        for _ in range(10):
            args = ratelimit.script_args("abc123", policies, anonymous)
            if hasattr(script, "_command"):
                commands.append(script._command([key], args))
            else:
                from gateway.redis_pipe import pack

                commands.append(pack(("EVALSHA", "0" * 40, 1, key, *args)))
        return b"".join(commands)

    parse = getattr(handlers, "_parsed_token", None) or handlers.parse_token
    new_headers = hasattr(upstream_http, "_framing")

    def response_headers() -> object:
        if new_headers:
            return proxy._response_headers(RAW_HEADERS, {"X-RateLimit-Limit": "60"})
        return proxy._response_headers(CIMultiDict(RAW_HEADERS), {"X-RateLimit-Limit": "60"})

    return {
        "guard's script call: arguments and RESP, per request of ten": _best(ten_requests) / 10,
        "guard's decision: read from the script's reply, and its headers": _best(
            lambda: ratelimit.decision_from_reply(DECISION_REPLY).headers()  # type: ignore[union-attr]
        ),
        "token: parse and hash the secret": _best(lambda: parse(TOKEN)),
        "the client's anonymous policy": _best(
            lambda: limits.anonymous("unauthenticated", "1.2.3.4")
        ),
        "upstream answer's headers: hygiene": _best(response_headers),
        **_answer_cuts(),
        "upstream exchange, pooled connection (GET, 68 bytes)": _exchange(),
    }


# The rate-limit headers the guard's decision adds to a proxied answer.
RATE_HEADERS = {
    "X-RateLimit-Limit": "60",
    "X-RateLimit-Remaining": "59",
    "X-RateLimit-Reset": "1765094460",
    "RateLimit": "limit=60, remaining=59, reset=60",
    "RateLimit-Policy": "60;w=60",
}
BODY = b'{"success":true,"data":[],"meta":{"page":1,"per_page":15,"total":0}}'


def _answer_cuts() -> dict[str, float]:
    """The issue 23d cuts in shared/ and the proxy's answer (issue 23, fourth round)."""
    import structlog
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request
    from prometheus_client import CollectorRegistry

    from gateway import proxy
    from shared import web as shared_web

    metrics = shared_web.HttpMetrics(CollectorRegistry(), "gateway")
    request = make_mocked_request("GET", "/api/v1/companies")
    relay = getattr(proxy, "_relay_headers", None)

    def proxied_answer() -> web.Response:
        if relay is None:
            headers = proxy._response_headers(RAW_HEADERS, RATE_HEADERS)
            return web.Response(status=200, headers=headers, body=BODY)
        answer = web.Response(status=200, body=BODY)
        relay(RAW_HEADERS, RATE_HEADERS, answer.headers)
        return answer

    def hardened() -> None:
        _to_end(shared_web._harden_response(request, proxied_answer()))

    context = shared_web.RequestContext("gateway", metrics)
    variable = getattr(context, "_request_id_var", None)

    def request_id_in_log_context() -> None:
        if variable is None:
            structlog.contextvars.bind_contextvars(request_id="7d1f2a3b4c5d0")
            structlog.contextvars.unbind_contextvars("request_id")
        else:
            variable.reset(variable.set("7d1f2a3b4c5d0"))

    made = _best(proxied_answer)
    return {
        **_access_line(),
        "HTTP metrics: one request observed": _best(
            lambda: metrics.observe("GET", "/api/v1/{tail}", 200, 0.0021)
        ),
        "proxied answer: Response with the upstream's and the limits' headers": made,
        "answer hook: _harden_response (its Response's making deducted)": _best(hardened) - made,
        "request context: request_id into structlog's context and out": _best(
            request_id_in_log_context
        ),
    }


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _access_line() -> dict[str, float]:
    """The request line (written at once here: no loop runs) and its timestamp."""
    from shared import logging as shared_logging

    shared_logging.configure_logging("gateway", "INFO")
    stdout, sys.stdout = sys.stdout, cast(Any, _Discard())
    try:
        line = _best(
            lambda: shared_logging.access_log(
                "gateway", "7d1f2a3b4c5d0", "GET", "/api/v1/{tail}", 200, 0.0021
            )
        )
    finally:
        sys.stdout = stdout
    return {
        "access line: access_log (outside a loop)": line,
        "access line: its timestamp": _best(shared_logging._timestamp),
    }


def _to_end(coroutine: Any) -> None:
    """A coroutine that never suspends, run to its end without an event loop."""
    with contextlib.suppress(StopIteration):
        coroutine.send(None)


class _Answers(asyncio.Protocol):
    """An upstream that answers every request on a keep-alive connection at once."""

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 68\r\n\r\n"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.transport.write(self.ANSWER + BODY)


def _exchange(number: int = 3_000, repeat: int = 7) -> float:
    """µs of CPU per exchange of the upstream leg with an in-process upstream (its own CPU,
    the same in both trees, included), on uvloop as the gateway runs."""
    import uvloop

    from gateway.upstream_http import UpstreamClient, request_head

    async def exchanges() -> float:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Answers, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = UpstreamClient(limit=8, connect_timeout=1, read_timeout=30)
        head = request_head("GET", "/api/v1/companies", [("Host", "billing")])
        best = float("inf")
        for _ in range(repeat):
            started = time.process_time()
            for _ in range(number):
                response = await client.request("127.0.0.1", port, head, None, replayable=True)
                await response.read()
            best = min(best, time.process_time() - started)
        await client.close()
        server.close()
        return best * 1e6 / number

    return uvloop.run(exchanges())


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
    both = [name for name in before if name in after]
    for name in both:
        old, new = before[name], after[name]
        print(f"| {name} | {old:.2f} | {new:.2f} | {old - new:.2f} |")
    for name in [name for name in {**before, **after} if name not in both]:
        print(
            f"| {name} (in one tree only) | {before.get(name, 0):.2f} | {after.get(name, 0):.2f} | - |"
        )
    old_total, new_total = (sum(times[name] for name in both) for times in (before, after))
    print(
        f"| total of the cases in both | {old_total:.2f} | {new_total:.2f} | {old_total - new_total:.2f} |"
    )


if __name__ == "__main__":
    if "--measure" in sys.argv:
        print(json.dumps(measure()))
    else:
        main()
