"""Clocks for the simulator: activity progress, token expiry and the rate-limit
bucket are all computed lazily from `clock.now()`, so tests can drive time by
hand (`ManualClock.advance`) instead of sleeping and hoping."""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale (origin arbitrary)."""
        ...


class MonotonicClock:
    """Real time."""

    def now(self) -> float:
        return time.monotonic()


class ManualClock:
    """Time that only moves when told to."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += seconds
        return self._now

    def set(self, value: float) -> None:
        if value < self._now:
            raise ValueError("time does not go backwards")
        self._now = value
