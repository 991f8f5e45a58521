"""py-spy under a benchmark's load: record a process's stacks while wrk runs, then say where
its time goes (the share of samples in which a function is on the stack, and the functions
that are on top the most).

    PROFILE=1 uv run --with py-spy python bench/gateway/run.py

py-spy comes from the environment (`--with py-spy`), else from `uvx py-spy`.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path


def _py_spy() -> list[str]:
    found = shutil.which("py-spy")
    return [found] if found else ["uvx", "py-spy"]


def record(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    """Start sampling `pid` (and its children) for `seconds`; collapsed stacks go to `out`."""
    command = [*_py_spy(), "record", "-p", str(pid), "-d", str(seconds), "-r", "250"]
    command += ["--subprocesses", "-f", "raw", "-o", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _frames(stack: str) -> list[str]:
    """`function (file.py:line)` frames, the line numbers dropped (one entry per function)."""
    frames = []
    for frame in stack.split(";"):
        name, _, where = frame.partition(" (")
        file = where.split(":")[0].rsplit("/", 1)[-1]
        frames.append(f"{name} ({file})")
    return frames


def summarise(raw: Path, top: int = 15) -> str:
    """Inclusive and self shares of the recorded samples, as markdown lists."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = _frames(stack)
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return "(no samples)"
    lines = [f"{total} samples. On the stack (inclusive):"]
    lines += [f"- {share(n, total)} {name}" for name, n in inclusive.most_common(top * 2)]
    lines += ["", "On top (self):"]
    lines += [f"- {share(n, total)} {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def share(part: int, total: int) -> str:
    return f"{100 * part / total:5.1f} %"


# The gateway's parts, for `attribute`, most specific first: a sample is charged to the first
# part one of whose functions (a substring of a frame) is anywhere on its stack.
GATEWAY_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("access line", ("access_log", "_LineBuffer", "_timestamp")),
    ("metrics (prometheus)", ("HttpMetrics.observe",)),
    ("Redis pipe (packing, write, replies)", ("ScriptBatcher", "RedisPipe", "redis_pipe.py")),
    (
        "guard: token, policies, verdict, limit headers",
        ("_verdict", "Guard.", "parse_token", "Limits.", "_admit", "Decision", "script_args"),
    ),
    ("header hygiene, both legs", ("_request_headers", "_response_headers", "request_head")),
    ("front door: path, client address", ("check_front",)),
    (
        "response hooks: hardening, CORS marks",
        ("_harden_response", "Cors.mark", "_close_connection_when", "_prepare_hook"),
    ),
    (
        "writing the client's answer (aiohttp)",
        ("StreamWriter", "write_eof", "finish_response", "StreamResponse", "Response."),
    ),
    ("upstream leg and relay", ("upstream_http.py", "Proxy.")),
    ("request context: id, error answer", ("RequestContext.serve", "handlers.py")),
    ("middleware chain incl. CORS", ("browsers_and_strays", "_fix_request_current_app")),
    ("aiohttp server: parsing, request, routing", ("web_protocol.py", "web_app.py", "web_")),
    ("event loop (uvloop, socket reads)", ("_serve (", "run_app (")),
)


def attribute(raw: Path, parts: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, float]:
    """Each part's share of the samples (exclusive: together they make 1)."""
    shares: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        shares[_part_of(stack.split(";"), parts)] += int(count)
    return (
        {name: shares[name] / total for name in [*(p for p, _ in parts), "other"]} if total else {}
    )


def _part_of(frames: list[str], parts: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    for name, functions in parts:
        if any(function in frame for frame in frames for function in functions):
            return name
    return "other"
