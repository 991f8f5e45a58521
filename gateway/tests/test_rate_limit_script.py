"""The rate-limit script decides a batch of requests in one call exactly as it decides the same
requests one call each (shared/ratelimit.py): the batch reads each log and each identity once
and writes a log's entries with one ZADD, which must change no answer and no log."""

from __future__ import annotations

import uuid

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.ratelimit import SLIDING_WINDOW_LUA, Policy, script_arguments, script_record

WINDOW = 60
# What a request can be: a caller without a token (from one of two addresses), a cached
# token of one of two users, a token Redis does not know (a miss), a token being stored
# right after its introspection, a revoked one (the tombstone), and a user's call of a route
# with a second policy.
KINDS = ["anon-a", "anon-b", "user-1", "user-2", "unknown", "store-1", "revoked", "regen-2"]


def _scenario(namespace: str, kinds: list[str], limits: tuple[int, int, int]):
    user_limit, regen_limit, anon_limit = limits
    default = Policy("default", f"{namespace}:rl:user:{{sub}}", user_limit, WINDOW)
    regen = Policy("regenerate", f"{namespace}:rl:regen:{{sub}}", regen_limit, WINDOW)
    keys, records = [], []
    for kind in kinds:
        client = "b" if kind == "anon-b" else "a"
        anon = [Policy("unauthenticated", f"{namespace}:rl:ip:{client}", anon_limit, WINDOW)]
        if kind.startswith("anon"):
            keys.append("")
            records.append(script_record([], anon))
            continue
        user = kind[-1]
        token = {"unknown": "unknown", "revoked": "revoked", "store-1": "stored"}.get(kind, user)
        keys.append(f"{namespace}:tok:{token}")
        policies = [default, regen] if kind.startswith("regen") else [default]
        stored = f"{user}\n{user}\nidentity-of-{user}" if kind.startswith("store") else ""
        records.append(script_record(policies, anon, stored, 60_000 if stored else 0))
    return keys, records


def _prepare(client: redis.Redis, namespace: str) -> None:
    for user in "12":
        client.set(f"{namespace}:tok:{user}", f"{user}\n{user}\nidentity-of-{user}", px=60_000)
    client.set(f"{namespace}:tok:revoked", "!revoked", px=60_000)


def _answers(replies: list[list[bytes]]) -> list[tuple[object, ...]]:
    """Each reply without its reset and clock: the calls one at a time run milliseconds apart."""
    return [tuple(reply[:7]) for reply in replies]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=24),
    limits=st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)),
)
def test_a_batch_is_decided_as_its_requests_one_call_each(redis_url, kinds, limits):
    client = redis.Redis.from_url(redis_url)
    batched, alone = f"batch-{uuid.uuid4().hex}", f"alone-{uuid.uuid4().hex}"
    _prepare(client, batched)
    _prepare(client, alone)

    keys, records = _scenario(batched, kinds, limits)
    together = client.eval(SLIDING_WINDOW_LUA, len(keys), *keys, *script_arguments("call", records))

    keys, records = _scenario(alone, kinds, limits)
    one_by_one = [
        client.eval(SLIDING_WINDOW_LUA, 1, key, *script_arguments(f"call{n}", [record]))[0]
        for n, (key, record) in enumerate(zip(keys, records, strict=True))
    ]

    assert len(together) == len(kinds)
    assert _answers(together) == _answers(one_by_one)
    for reply in together:
        if reply[0] != b"miss" and reply[3]:  # a decision: its reset within the window
            assert int(reply[8]) <= int(reply[7]) <= int(reply[8]) + WINDOW * 1000
    # The logs hold the same entries, and each expires with its window.
    for namespace in (batched, alone):
        logs = sorted(client.scan_iter(f"{namespace}:rl:*"))
        for log in logs:
            assert 0 < client.pttl(log) <= WINDOW * 1000
    counts = {
        key.decode().removeprefix(batched): client.zcard(key)
        for key in client.scan_iter(f"{batched}:rl:*")
    }
    assert counts == {
        key.decode().removeprefix(alone): client.zcard(key)
        for key in client.scan_iter(f"{alone}:rl:*")
    }
    client.close()


def test_every_request_of_a_batch_gets_its_own_log_entry(redis_url):
    """Four admitted requests of one user in one call: four entries, remaining 3, 2, 1, 0."""
    client = redis.Redis.from_url(redis_url)
    namespace = f"entries-{uuid.uuid4().hex}"
    _prepare(client, namespace)
    keys, records = _scenario(namespace, ["user-1"] * 5, (4, 1, 1))
    replies = client.eval(SLIDING_WINDOW_LUA, len(keys), *keys, *script_arguments("p", records))
    assert [int(reply[2]) for reply in replies] == [1, 1, 1, 1, 0]
    assert [int(reply[6]) for reply in replies] == [3, 2, 1, 0, 0]
    members = client.zrange(f"{namespace}:rl:user:1", 0, -1)
    assert sorted(members) == [b"p:1", b"p:2", b"p:3", b"p:4"]
    client.close()


def test_a_token_is_counted_once_while_its_first_miss_is_introspected(redis_url):
    """A miss leaves a marker: the token's misses after it (in the same call or the next) are
    not counted against the address; the identity then stored replaces the marker, while a
    revocation tombstone is never replaced by a store."""
    client = redis.Redis.from_url(redis_url)
    namespace = f"pending-{uuid.uuid4().hex}"
    keys, records = _scenario(namespace, ["unknown"] * 3, (4, 1, 3))
    first = client.eval(SLIDING_WINDOW_LUA, 3, *keys, *script_arguments("a", records))
    second = client.eval(SLIDING_WINDOW_LUA, 1, keys[0], *script_arguments("b", records[:1]))
    assert [reply[0] for reply in [*first, *second]] == [b"miss"] * 4
    assert client.zcard(f"{namespace}:rl:ip:a") == 1  # the first miss only
    stored = script_record([], [], "7\n7\nidentity-of-7", 60_000)
    (after,) = client.eval(SLIDING_WINDOW_LUA, 1, keys[0], *script_arguments("c", [stored]))
    assert after[0] == b"ok" and after[1] == b"7\n7\nidentity-of-7"
    revoked = f"{namespace}:tok:revoked"
    client.set(revoked, "!UNAUTHORIZED", px=60_000)
    (denied,) = client.eval(SLIDING_WINDOW_LUA, 1, revoked, *script_arguments("d", [stored]))
    assert denied[0] == b"denied" and client.get(revoked) == b"!UNAUTHORIZED"
    client.close()
