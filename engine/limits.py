"""Concurrency and rate limits the brain applies around executor calls.

The in-flight limit bounds *calls in flight*: a phase waiting on an activity
gives its slot back (see `PhaseContext.wait_activity`), so thousands of
activities can be outstanding while only a few dozen HTTP calls are.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Protocol, runtime_checkable

import anyio

CALL_PRIORITY: ContextVar[int] = ContextVar("phasegrid_call_priority", default=0)
"""Set by the brain for the cell a task runs: lower goes first. Cells with the
longest remaining critical path get the next API call (then earlier units), so work
that unblocks other work is not held up when the tenant rate limit paces the job."""
POLL_PRIORITY = -(1 << 63)
"""The activity poller's calls: ahead of every cell's (global cells' included), so a
completion is never noticed late because writes queue for the same bucket."""


@runtime_checkable
class RateLimiter(Protocol):
    """Pluggable tenant rate limiter (in-process, or shared through Redis).

    `key` names the bucket: R1 limits each service family separately, so a
    Wi-Fi call never waits behind an exhausted DPSK bucket. Limiters with one
    bucket ignore it.
    """

    async def acquire(self, cost: int = 1, key: str = "") -> None:
        """Wait until `cost` calls may be made."""

    def penalize(self, retry_after: float | None = None, key: str = "") -> Awaitable[None] | None:
        """The server answered 429: slow down (adaptive). A shared limiter returns
        an awaitable (it tells Redis); the caller awaits whatever it gets."""


class NoRateLimit:
    """A limiter that never waits."""

    async def acquire(self, cost: int = 1, key: str = "") -> None:
        return None

    def penalize(self, retry_after: float | None = None, key: str = "") -> None:
        return None


class PriorityGate:
    """A lock handed to the waiter with the lowest priority value (FIFO among equals)."""

    def __init__(self) -> None:
        self._held = False
        self._waiters: list[tuple[int, int, anyio.Event]] = []
        self._seq = itertools.count()

    async def acquire(self, priority: int) -> None:
        if not self._held and not self._waiters:
            self._held = True
            return
        entry = (priority, next(self._seq), anyio.Event())
        heapq.heappush(self._waiters, entry)
        try:
            await entry[2].wait()
        except BaseException:
            if entry[2].is_set():  # handed over just as we were cancelled: pass it on
                self.release()
            else:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
            raise

    def release(self) -> None:
        if self._waiters:
            heapq.heappop(self._waiters)[2].set()  # ownership moves to the best waiter
        else:
            self._held = False


class TokenBucket:
    """In-process token bucket, adaptive (AIMD): `rate_per_minute`, bursts up to `burst`.

    Waiting callers are served by `CALL_PRIORITY` (the poller, then the critical path).
    On `penalize` (a 429) it pauses every caller for `retry_after` (or one refill
    interval) and halves its rate, at most once per pause so a volley of 429s
    from calls already in flight counts as one signal; it then recovers
    additively, back to nominal `recovery` seconds after a halving from nominal.
    """

    def __init__(
        self,
        rate_per_minute: float,
        burst: float | None = None,
        *,
        recovery: float = 30.0,
        floor: float = 1 / 16,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.rate = rate_per_minute / 60.0
        self.nominal_rate = self.rate
        self.min_rate = self.nominal_rate * floor
        self.increase = self.nominal_rate / 2 / max(recovery, 1e-9)
        """Calls/s regained per second without a 429 (half the nominal in `recovery` s)."""
        self.capacity = float(burst if burst is not None else max(1.0, self.rate))
        self.tokens = self.capacity
        self.halvings = 0
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._paused_until = 0.0
        self._calm_from = 0.0
        self._gate = PriorityGate()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._last)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self._last = max(self._last, now)
        if self.rate < self.nominal_rate and now > self._calm_from:
            calm = min(elapsed, now - self._calm_from)
            self.rate = min(self.nominal_rate, self.rate + calm * self.increase)

    async def acquire(self, cost: int = 1, key: str = "") -> None:
        await self._gate.acquire(CALL_PRIORITY.get())
        try:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                self._refill()
                if self.tokens >= cost - 1e-9:  # float dust must not stall a waiter
                    self.tokens = max(0.0, self.tokens - cost)
                    return
                await self._sleep((cost - self.tokens) / self.rate)
        finally:
            self._gate.release()

    def penalize(self, retry_after: float | None = None, key: str = "") -> None:
        self._refill()
        now = self._clock()
        pause = retry_after if retry_after is not None else 1.0 / max(self.rate, 1e-6)
        if now >= self._calm_from:  # one halving per 429 volley
            self.rate = max(self.min_rate, self.rate / 2)
            self.halvings += 1
        self._paused_until = max(self._paused_until, now + pause)
        self._calm_from = max(self._calm_from, self._paused_until)
        self.tokens = 0.0  # and none accrue during the pause: resume at the new pace
        self._last = max(self._last, self._paused_until)


class KeyedLimiter:
    """One adaptive `TokenBucket` per key (R1: per service family), in this process.

    `limits` maps a key to (calls per second, burst); other keys get `default`.
    The runtime gives the R1 client `engine.tenant_limit.SharedLimiter` instead
    (shared by every worker through Redis) and this as its fallback.
    """

    def __init__(
        self,
        limits: Mapping[str, tuple[float, float]] | None = None,
        default: tuple[float, float] = (100.0, 200.0),
        *,
        recovery: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.limits = dict(limits or {})
        self.default = default
        self._recovery = recovery
        self._clock = clock
        self._sleep = sleep
        self.buckets: dict[str, TokenBucket] = {}

    def bucket(self, key: str = "") -> TokenBucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            per_second, burst = self.limits.get(key, self.default)
            bucket = self.buckets[key] = TokenBucket(
                per_second * 60.0, burst, recovery=self._recovery, clock=self._clock,
                sleep=self._sleep,
            )  # fmt: skip
        return bucket

    async def acquire(self, cost: int = 1, key: str = "") -> None:
        await self.bucket(key).acquire(cost)

    def penalize(self, retry_after: float | None = None, key: str = "") -> None:
        self.bucket(key).penalize(retry_after)
