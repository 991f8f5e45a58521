"""Exact sliding-window-log rate limiting in Redis, and the in-process fallback.

One Lua script does everything the gateway's hot path needs in a single round trip:
it reads the cached identity for a token (optionally storing a fresh one first) and applies
every rate-limit policy of the request atomically. A rejected request is not recorded.

One call of the script decides a batch of requests (the gateway's ScriptBatcher sends the
requests of one round trip together), in order, as if each had been a call of its own. What
the batch shares is read once: each rate-limit log's trim, count and oldest entry, each
token's cached identity; a log's new entries go in with one ZADD at the end. The requests of
one busy client, which are most of a batch under load, then cost Redis one read of their log
instead of one each. A lone request is a batch of one.

Policy keys may contain `{sub}`, replaced inside the script by the cached identity's user id,
so the gateway need not know who the caller is before the script runs. (Keys built inside a
script are fine on a single Redis; a Redis Cluster deployment would need hash tags.)
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

# KEYS: each request's identity cache key ('' for a caller without a token). ARGV[1]: a prefix
# unique to the call (request i's log entry is `<prefix>:<i>`); ARGV[2]: how many records
# follow, each once however many requests share it (script_record: the identity to store first
# and its TTL, '' and 0 for none; the number of authenticated policies and theirs, as name,
# key, limit, window in ms; the same for the anonymous policies); then for each request the
# number of its record (from 1). The reply: one array per request, as `decision_from_reply`
# reads it.
SLIDING_WINDOW_LUA = r"""
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local logs, written, identities = {}, {}, {}
-- What a token's cache entry holds while its first miss is introspected, and for how long at
-- most (an introspection that takes longer lets the next miss be counted and ask again).
local PENDING, PENDING_MS = '?', 5000

-- A log as the batch's requests see it: read once, then kept in step with their entries.
local function log_of(key, window)
  local log = logs[key]
  if log == nil then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local used = redis.call('ZCARD', key)
    local oldest = nil
    if used > 0 then oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]) end
    log = {key = key, window = window, used = used, oldest = oldest, added = {}}
    logs[key] = log
  end
  return log
end

local function apply(member, base, count, sub, record)
  local checked = {}
  local admitted = true
  for i = 0, count - 1 do
    local at = base + i * 4
    local key = ARGV[at + 1]
    if sub then key = string.gsub(key, '{sub}', sub) end
    local limit = tonumber(ARGV[at + 2])
    local window = tonumber(ARGV[at + 3])
    local log = log_of(key, window)
    -- Without recording, the request being reported was counted already.
    if log.used >= limit + (record and 0 or 1) then admitted = false end
    checked[#checked + 1] = {ARGV[at], limit, window, log}
  end
  -- Report the tightest policy: the one that refused with the latest reset, else the one
  -- with the fewest requests left.
  local best, best_left, best_reset = nil, nil, nil
  for _, c in ipairs(checked) do
    local log = c[4]
    local used = log.used
    local reset = (log.oldest or now) + c[3]
    local left = c[2] - used
    if admitted then
      if record then
        left = left - 1
        log.used = used + 1
        log.oldest = log.oldest or now
        local added = log.added
        if #added == 0 then written[#written + 1] = log end
        added[#added + 1] = now
        added[#added + 1] = member
      end
      if best == nil or left < best_left or (left == best_left and c[2] < best[2]) then
        best, best_left, best_reset = c, left, reset
      end
    elseif used >= c[2] then
      if best == nil or reset > best_reset then best, best_left, best_reset = c, 0, reset end
    end
  end
  if best == nil then return {admitted and 1 or 0, '', 0, 0, 0, 0} end
  return {admitted and 1 or 0, best[1], best[2], best[3], best_left, best_reset}
end

local function reply(state, blob, r)
  return {state, blob, r[1], r[2], r[3], r[4], r[5], r[6], now}
end

local function decide(identity_key, at, member)
  local store = ARGV[at]
  local auth_count = tonumber(ARGV[at + 2])
  local anon_base = at + 3 + auth_count * 4
  local anon_count = tonumber(ARGV[anon_base])
  if identity_key == '' then
    return reply('anon', '', apply(member, anon_base + 1, anon_count, nil, true))
  end
  local blob = identities[identity_key]
  if store ~= '' then
    -- Stored over nothing or over the miss's marker only: a revocation tombstone written
    -- meanwhile wins over a fresh introspection.
    blob = redis.call('GET', identity_key)
    if not blob or blob == PENDING then
      redis.call('SET', identity_key, store, 'PX', ARGV[at + 1])
      blob = store
    end
    identities[identity_key] = blob
  elseif blob == nil then
    blob = redis.call('GET', identity_key)
    identities[identity_key] = blob
  end
  if blob == PENDING then
    -- Another request's miss is being introspected: it was counted, this one is not.
    return {'miss', ''}
  end
  if not blob then
    -- An unknown token costs an introspection: it counts against the caller's anonymous
    -- limit first, so random tokens cannot make the gateway call auth-service without end.
    -- Once: the marker makes the same token's other misses wait for that introspection
    -- uncounted (a burst of a new token must not use up its address's anonymous limit).
    local r = apply(member, anon_base + 1, anon_count, nil, true)
    if r[1] == 0 then return reply('limited', '', r) end
    redis.call('SET', identity_key, PENDING, 'PX', PENDING_MS, 'NX')
    identities[identity_key] = PENDING
    return {'miss', ''}
  end
  if string.sub(blob, 1, 1) == '!' then
    -- Right after an introspection the miss was counted already: report, do not count again.
    return reply('denied', blob, apply(member, anon_base + 1, anon_count, nil, store == ''))
  end
  local nl = string.find(blob, '\n', 1, true)
  return reply('ok', blob, apply(member, at + 3, auth_count, string.sub(blob, 1, nl - 1), true))
end

local records = {}
local at = 3
for r = 1, tonumber(ARGV[2]) do
  records[r] = at
  local auth_count = tonumber(ARGV[at + 2])
  at = at + 4 + (auth_count + tonumber(ARGV[at + 3 + auth_count * 4])) * 4
end
local replies = {}
for i = 1, #KEYS do
  replies[i] = decide(KEYS[i], records[tonumber(ARGV[at + i - 1])], ARGV[1] .. ':' .. i)
end
for _, log in ipairs(written) do
  redis.call('ZADD', log.key, unpack(log.added))
  redis.call('PEXPIRE', log.key, log.window)
end
return replies
"""


@dataclass(frozen=True)
class Policy:
    """One limit: `limit` requests per `window` seconds for the key."""

    name: str
    key: str
    limit: int
    window: int

    def args(self) -> tuple[str | int, ...]:
        return (self.name, self.key, self.limit, self.window * 1000)


class Decision(NamedTuple):
    """What the limiter decided for one request (a tuple: made for every request)."""

    admitted: bool
    policy: str
    limit: int
    window: int  # seconds
    remaining: int
    reset_ms: int  # epoch ms when the next slot frees
    now_ms: int

    @property
    def reset_epoch(self) -> int:
        return -(-self.reset_ms // 1000)  # rounded up, in integers

    @property
    def seconds_to_reset(self) -> int:
        return max(0, -((self.now_ms - self.reset_ms) // 1000))

    @property
    def retry_after(self) -> int:
        return max(1, self.seconds_to_reset)

    def headers(self) -> dict[str, str]:
        limit, policy = _policy_headers(self.policy, self.limit, self.window)
        remaining = str(self.remaining)
        headers = {
            "X-RateLimit-Limit": limit,
            "X-RateLimit-Remaining": remaining,
            "X-RateLimit-Reset": str(self.reset_epoch),
            "RateLimit-Policy": policy,
            "RateLimit": f'"{self.policy}";r={remaining};t={self.seconds_to_reset}',
        }
        if not self.admitted:
            headers["Retry-After"] = str(self.retry_after)
        return headers


@lru_cache(maxsize=256)
def _policy_headers(policy: str, limit: int, window: int) -> tuple[str, str]:
    """The headers a policy's every decision repeats (the policies are few)."""
    return str(limit), f'"{policy}";q={limit};w={window}'


def script_record(
    authenticated: list[Policy],
    anonymous: list[Policy],
    store_blob: str = "",
    store_ttl_ms: int = 0,
) -> list[str | int]:
    """One request's arguments to the script (after the call's prefix; see SLIDING_WINDOW_LUA)."""
    args: list[str | int] = [store_blob, store_ttl_ms, len(authenticated)]
    for policy in authenticated:
        args.extend(policy.args())
    args.append(len(anonymous))
    for policy in anonymous:
        args.extend(policy.args())
    return args


def script_arguments(prefix: str, records: Sequence[list[str | int]]) -> list[str | int]:
    """ARGV of one call of the script for requests with these records, in order (the
    gateway's batcher packs the same in RESP itself)."""
    numbers: dict[tuple[str | int, ...], int] = {}
    for record in records:
        numbers.setdefault(tuple(record), len(numbers) + 1)
    args: list[str | int] = [prefix, len(numbers)]
    for distinct in numbers:
        args.extend(distinct)
    args.extend(numbers[tuple(record)] for record in records)
    return args


def decision_from_reply(reply: Sequence[object]) -> Decision | None:
    """Decode one request's decision (`reply[2:]` of its array); None when no policy applied."""
    admitted, name, limit, window_ms, remaining, reset_ms, now_ms = reply[2:9]
    if not name:
        return None
    return Decision(
        admitted=bool(_int(admitted)),
        policy=_text(name),
        limit=_int(limit),
        window=_int(window_ms) // 1000,
        remaining=_int(remaining),
        reset_ms=_int(reset_ms),
        now_ms=_int(now_ms),
    )


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _int(value: object) -> int:
    # The script's numbers come back as RESP integers (ints); int() reads bytes as well.
    return value if value.__class__ is int else int(value)  # type: ignore[call-overload]


class LocalSlidingWindow:
    """The same exact sliding-window log, in process memory: the fallback when Redis is down.

    Each replica then limits on its own, so the effective limit is per replica; that is the
    documented price of staying available.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self._logs: dict[str, deque[float]] = {}
        self._max_keys = max_keys

    def check(self, policies: list[Policy], now_ms: float | None = None) -> Decision | None:
        now = now_ms if now_ms is not None else time.time() * 1000
        if len(self._logs) > self._max_keys:
            self._logs.clear()  # bounded memory beats exactness while degraded
        checked = []
        for policy in policies:
            log = self._logs.setdefault(policy.key, deque())
            window_ms = policy.window * 1000
            while log and log[0] <= now - window_ms:
                log.popleft()
            checked.append((policy, log))
        admitted = all(len(log) < policy.limit for policy, log in checked)
        best: Decision | None = None
        for policy, log in checked:
            window_ms = policy.window * 1000
            reset = (log[0] + window_ms) if log else now + window_ms
            if admitted:
                log.append(now)
                remaining = policy.limit - len(log)
                candidate = Decision(
                    True, policy.name, policy.limit, policy.window, remaining, int(reset), int(now)
                )
                if best is None or remaining < best.remaining:
                    best = candidate
            elif len(log) >= policy.limit and (best is None or reset > best.reset_ms):
                best = Decision(
                    False, policy.name, policy.limit, policy.window, 0, int(reset), int(now)
                )
        return best
