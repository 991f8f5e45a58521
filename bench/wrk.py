"""Reading wrk's report (with --latency): requests/s, p50/p99 in ms, counts."""

from __future__ import annotations

import re


def _ms(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    if match is None:
        raise ValueError(f"no {percentile}% latency in wrk's output:\n{output}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def parse_wrk(output: str) -> dict[str, float]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or total is None:
        raise ValueError(f"not a wrk report:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(rps.group(1)),
        "p50_ms": _ms(output, "50"),
        "p99_ms": _ms(output, "99"),
        "requests": int(total.group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        # Printed by the lua scripts' done() (in µs), where they have one: p90, p99.9 too.
        **{
            f"p{name.replace('.', '_')}_ms": int(micros) / 1000
            for name, micros in re.findall(r"^percentile ([\d.]+) (\d+)$", output, re.M)
        },
    }
