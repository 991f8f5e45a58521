"""Cheap unique ids for the hot path (request ids, rate-limit log members).

A random per-process prefix plus a counter: unique across processes and restarts in practice,
and far cheaper than uuid4, which reads the OS entropy pool on every call.
"""

from __future__ import annotations

import itertools
import os


class _Ids:
    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self.prefix = os.urandom(6).hex()
        self.counter = itertools.count()


_ids = _Ids()
# A forked worker must not repeat its parent's ids.
os.register_at_fork(after_in_child=_ids.reseed)


def unique_id() -> str:
    return f"{_ids.prefix}{next(_ids.counter):x}"
