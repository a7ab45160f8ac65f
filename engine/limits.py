"""Concurrency and rate limits the brain applies around executor calls.

The in-flight limit bounds *calls in flight*: a phase waiting on an activity
gives its slot back (see `PhaseContext.wait_activity`), so thousands of
activities can be outstanding while only a few dozen HTTP calls are.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Protocol, runtime_checkable

import anyio

CALL_PRIORITY: ContextVar[int] = ContextVar("phasegrid_call_priority", default=0)
"""Set by the brain for the cell a task runs: lower goes first. Units further
along get the next API call, so the first units finish early even when the
tenant rate limit is what paces the job."""


@runtime_checkable
class RateLimiter(Protocol):
    """Pluggable tenant rate limiter (local token bucket, or shared via Redis)."""

    async def acquire(self, cost: int = 1) -> None:
        """Wait until `cost` calls may be made."""

    def penalize(self, retry_after: float | None = None) -> None:
        """The server answered 429: slow down (adaptive)."""


class NoRateLimit:
    """A limiter that never waits."""

    async def acquire(self, cost: int = 1) -> None:
        return None

    def penalize(self, retry_after: float | None = None) -> None:
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
    """In-process token bucket: `rate_per_minute` calls, bursts up to `burst`.

    Waiting callers are served by `CALL_PRIORITY` (units further along first).
    On `penalize` it pauses every caller for `retry_after` (or one refill
    interval) and halves its rate for a while; it creeps back afterwards.
    """

    def __init__(
        self,
        rate_per_minute: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.rate = rate_per_minute / 60.0
        self.nominal_rate = self.rate
        self.capacity = float(burst if burst is not None else max(1.0, self.rate))
        self.tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._paused_until = 0.0
        self._gate = PriorityGate()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
        self._last = now
        if self.rate < self.nominal_rate:
            self.rate = min(self.nominal_rate, self.rate * 1.01)

    async def acquire(self, cost: int = 1) -> None:
        await self._gate.acquire(CALL_PRIORITY.get())
        try:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                self._refill()
                if self.tokens >= cost:
                    self.tokens -= cost
                    return
                await self._sleep((cost - self.tokens) / self.rate)
        finally:
            self._gate.release()

    def penalize(self, retry_after: float | None = None) -> None:
        pause = retry_after if retry_after is not None else 1.0 / max(self.rate, 1e-6)
        self._paused_until = max(self._paused_until, self._clock() + pause)
        self.rate = max(self.nominal_rate / 8, self.rate / 2)
        self.tokens = 0.0
