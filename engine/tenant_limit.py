"""A tenant's R1 rate limit shared by every worker through Redis.

One limiter per tenant and service family; its state is one Redis hash
(`GlobalKeys.rate_limit`, hash-tagged by tenant) changed only by one atomic
script: GCRA with reservations. Each caller reserves the next free slot and
sleeps until it, so callers of every process are served in the order they asked
(FIFO-fair across jobs and workers) and together stay within the rate, however
many workers there are. Adaptive like `engine.limits.TokenBucket`: a 429 halves
the rate (at most once per `window`, so the 429s of calls already in flight
count once), its Retry-After pauses every worker, and the rate then climbs back
additively to the documented limit. Time is the Redis server's (TIME), so
workers on different machines agree; tests inject a clock.

If Redis cannot be reached, a call is paced by an in-process bucket instead
(logged once per outage): a blip of the store never fails a job.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from engine.keys import GlobalKeys
from engine.limits import KeyedLimiter, RateLimiter

log = logging.getLogger("phasegrid.ratelimit")

# KEYS: the limiter's hash
# ARGV: op ('reserve'|'again'|'penalize'; 'again' re-reserves a voided slot, not a new call),
#   now ('' = the server's TIME), nominal rate (calls/s),
#   burst (calls), increase (calls/s regained per calm second), minimum rate, window (s),
#   cost (reserve) or Retry-After in seconds ('' = none; penalize), ttl (ms)
# Returns {wait or pause left (s), rate (calls/s), now, 429s so far, '1' if the key was new}
LIMIT = r"""
local key = KEYS[1]
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local nominal, burst = tonumber(ARGV[3]), tonumber(ARGV[4])
local increase, min_rate, window = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local s = redis.call('HMGET', key, 'tat', 'rate', 'paused_until', 'calm_from', 'rated_at', 'r429')
local tat = tonumber(s[1]) or now
local rate = math.min(nominal, tonumber(s[2]) or nominal)
local paused_until = tonumber(s[3]) or 0
local calm_from = tonumber(s[4]) or 0
local rated_at = tonumber(s[5]) or now
local r429 = tonumber(s[6]) or 0
local calm = now - math.max(rated_at, calm_from)
if rate < nominal and calm > 0 then
  rate = math.min(nominal, rate + calm * increase)
end
local function f(x) return string.format('%.6f', x) end
local out
if ARGV[1] ~= 'penalize' then
  local cost = tonumber(ARGV[8])
  local interval = 1 / rate
  local start = math.max(now, paused_until, tat - math.max(0, burst - 1) * interval)
  tat = math.max(tat, start) + cost * interval
  out = start - now
  if ARGV[1] == 'reserve' then redis.call('HINCRBY', key, 'calls', cost) end
  if out > 0.0005 then
    redis.call('HINCRBY', key, 'waits', 1)
    redis.call('HINCRBYFLOAT', key, 'wait_s', f(out))
  end
else
  r429 = r429 + 1
  local pause = tonumber(ARGV[8]) or (1 / rate)
  if now >= calm_from then
    rate = math.max(min_rate, rate / 2)
    redis.call('HINCRBY', key, 'halvings', 1)
    calm_from = now + window
  end
  paused_until = math.max(paused_until, now + pause)
  calm_from = math.max(calm_from, paused_until)
  -- the server's bucket is empty: no burst after the pause, resume at the new pace
  tat = math.max(tat, paused_until + math.max(0, burst - 1) / rate)
  out = paused_until - now
end
redis.call('HSET', key, 'tat', f(tat), 'rate', f(rate), 'paused_until', f(paused_until),
  'calm_from', f(calm_from), 'rated_at', f(math.max(rated_at, now)), 'r429', r429,
  'nominal', f(nominal), 'burst', f(burst), 'increase', f(increase))
redis.call('PEXPIRE', key, ARGV[9])
return {f(out), f(rate), f(now), tostring(r429), s[1] and '0' or '1'}
"""

UNREACHABLE: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
"""Redis is down, restarting, slow or refusing (a replica after a failover): pace the
call in this process instead; a job never fails because of its limiter."""


@dataclass(frozen=True)
class Reservation:
    wait: float
    """Seconds until the reserved slot (or, after a 429, until the pause ends)."""
    rate: float
    now: float
    """The clock the script used (Redis TIME unless injected)."""
    rate_limited: int
    """429s reported on this limiter so far: a change while asleep voids a slot."""


class LimitState(BaseModel):
    """One shared limiter as `phasegrid status` shows it (no secrets: ids and counts)."""

    tenant: str
    family: str
    calls: int = 0
    waits: int = 0
    wait_seconds: float = 0.0
    rate_limited: int = 0
    """429s reported by every worker."""
    halvings: int = 0
    rate: float
    """Calls per second allowed now (after any additive recovery)."""
    documented_rate: float
    burst: float
    paused_for: float = 0.0
    """Seconds left of a Retry-After pause."""


class SharedLimiter:
    """`RateLimiter` whose buckets (one per family `key`) live in Redis, per tenant.

    `limits` maps a family to its documented (calls per second, burst); others
    get `default`. Only `burst_share` of a burst is used: the rest absorbs jitter
    (calls sent evenly may arrive bunched). `clock` (seconds) replaces Redis TIME
    in tests.
    """

    def __init__(
        self,
        redis: Redis,
        tenant: str,
        limits: Mapping[str, tuple[float, float]] | None = None,
        default: tuple[float, float] = (100.0, 200.0),
        *,
        prefix: str = "pg",
        recovery: float = 30.0,
        floor: float = 1 / 16,
        window: float = 2.0,
        burst_share: float = 0.5,
        ttl: float = 24 * 3600.0,
        timeout: float = 2.0,
        retry_after_outage: float = 5.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        fallback: RateLimiter | None = None,
    ) -> None:
        self.redis = redis
        self.tenant = tenant
        self.limits = dict(limits or {})
        self.default = default
        self.keys = GlobalKeys(prefix)
        self.recovery = recovery
        self.floor = floor
        self.window = window
        self.burst_share = burst_share
        self.ttl_ms = int(ttl * 1000)
        self.timeout = timeout
        self.retry_after_outage = retry_after_outage
        self._retry_at = 0.0
        """While Redis is unreachable it is asked again only this often (monotonic),
        so a call does not pay the connect timeout every time."""
        self._clock = clock
        self._sleep = sleep
        self.fallback: RateLimiter = fallback or KeyedLimiter(
            self.limits, default, recovery=recovery, sleep=sleep
        )
        self._script = redis.register_script(LIMIT)
        self._indexed: set[str] = set()
        self.unreachable = False
        """True while Redis cannot be reached (calls are paced in-process meanwhile)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tenant={self.tenant!r})"

    def key(self, family: str) -> str:
        return self.keys.rate_limit(self.tenant, family)

    async def _run(self, op: str, family: str, arg: float | None) -> Reservation | None:
        """Run the script once; None (logged once per outage) when Redis is unreachable."""
        per_second, burst = self.limits.get(family, self.default)
        args = [
            op,
            "" if self._clock is None else repr(float(self._clock())),
            repr(float(per_second)),
            repr(max(1.0, float(burst) * self.burst_share)),
            repr(per_second / 2 / max(self.recovery, 1e-9)),
            repr(per_second * self.floor),
            repr(float(self.window)),
            "" if arg is None else repr(float(arg)),
            str(self.ttl_ms),
        ]
        key = self.key(family)
        if self.unreachable and time.monotonic() < self._retry_at:
            return None
        try:
            with anyio.fail_after(self.timeout):
                out = await self._script(keys=[key], args=args)
                if int(out[4]) or key not in self._indexed:  # new, or expired and back again
                    await self.redis.sadd(self.keys.rate_limits, json.dumps([self.tenant, family]))
                    self._indexed.add(key)
        except UNREACHABLE as exc:
            if not self.unreachable:
                log.warning(
                    "shared rate limit of %s: Redis unreachable (%s); limiting in this "
                    "process until it is back", self.tenant, type(exc).__name__,
                )  # fmt: skip
            self.unreachable = True
            self._retry_at = time.monotonic() + self.retry_after_outage
            return None
        if self.unreachable:
            log.warning("shared rate limit of %s: Redis is back", self.tenant)
            self.unreachable = False
        wait, rate, now, r429, _new = out
        return Reservation(float(wait), float(rate), float(now), int(r429))

    async def reserve(
        self, family: str = "", cost: int = 1, *, again: bool = False
    ) -> Reservation | None:
        """Take the next slot of `family`: returns how long to wait for it. `again`:
        a slot voided by a 429 is replaced; the call is counted once, not twice."""
        return await self._run("again" if again else "reserve", family, cost)

    async def acquire(self, cost: int = 1, key: str = "") -> None:
        for attempt in range(3):  # a slot voided by a 429 is re-reserved (bounded)
            slot = await self.reserve(key, cost, again=attempt > 0)
            if slot is None:
                await self.fallback.acquire(cost, key)
                return
            if slot.wait <= 0:
                return
            await self._sleep(slot.wait)
            try:
                with anyio.fail_after(self.timeout):
                    seen = await self.redis.hget(self.key(key), "r429")
            except UNREACHABLE:
                return  # the next reservation notices the outage
            if int(seen or 0) == slot.rate_limited:
                return  # no 429 (so no pause) while we slept: the slot stands

    async def penalize(self, retry_after: float | None = None, key: str = "") -> None:
        """A 429: halve the shared rate (once per window) and pause every worker."""
        local = self.fallback.penalize(retry_after, key)
        if local is not None:
            await local
        await self._run("penalize", key, retry_after)


def _f(data: Mapping[str, Any], name: str) -> float:
    try:
        return float(data.get(name) or 0.0)
    except ValueError:
        return 0.0


async def read_limits(
    redis: Redis, prefix: str = "pg", *, now: float | None = None
) -> list[LimitState]:
    """Every shared limiter's state (calls, waits, 429s, rate now vs documented)."""
    keys = GlobalKeys(prefix)
    members = sorted(await redis.smembers(keys.rate_limits))
    if not members:
        return []
    if now is None:
        seconds, micros = await redis.time()
        now = seconds + micros / 1e6
    out: list[LimitState] = []
    for member in members:
        tenant, family = json.loads(member)
        data = await redis.hgetall(keys.rate_limit(tenant, family))
        if not data:  # expired after a day unused
            await redis.srem(keys.rate_limits, member)
            continue
        nominal, rate = _f(data, "nominal"), _f(data, "rate")
        calm = now - max(_f(data, "rated_at"), _f(data, "calm_from"))
        paused_for = max(0.0, _f(data, "paused_until") - now)
        if rate < nominal and calm > 0:
            rate = min(nominal, rate + calm * _f(data, "increase"))
        out.append(
            LimitState(
                tenant=tenant, family=family, calls=int(_f(data, "calls")),
                waits=int(_f(data, "waits")), wait_seconds=round(_f(data, "wait_s"), 3),
                rate_limited=int(_f(data, "r429")), halvings=int(_f(data, "halvings")),
                rate=round(rate, 3), documented_rate=round(nominal, 3),
                burst=_f(data, "burst"), paused_for=round(paused_for, 3),
            )
        )  # fmt: skip
    return out
