"""CPU time of the processes a benchmark drives, read from Linux's own counters, so a run can
say what each request cost every process it passed through (and the whole machine)."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import redis


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live children (nginx's worker, the gateway's workers)."""
    total = cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
            total += sum(tree_cpu_seconds(int(child)) for child in children)
        except FileNotFoundError:  # a thread or child that ended meanwhile
            continue
    return total


def redis_cpu_seconds(client: redis.Redis) -> float:
    """The Redis server's own CPU time (it runs in a container: its INFO counts it)."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def box_cpu_seconds() -> float:
    """CPU time used by everything on the machine, all cores (/proc/stat: not idle, not iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def wrk_cpu_seconds() -> float:
    """CPU time of the waited-for children: wrk's, once it has exited."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def whole_box(serving: dict[str, int], client: redis.Redis) -> dict[str, float]:
    """CPU seconds so far of each part of the box a request passes through."""
    counters = {name: tree_cpu_seconds(pid) for name, pid in serving.items()}
    counters["redis"] = redis_cpu_seconds(client)
    counters["wrk"] = wrk_cpu_seconds()
    counters["box"] = box_cpu_seconds()
    return counters
