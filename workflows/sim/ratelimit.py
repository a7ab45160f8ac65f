"""Per-tenant token bucket, refilled continuously on the simulator's clock.

R1 allows 2,000 calls per minute per tenant; with `time_scale` < 1 the minute
shrinks with every other duration, so a scaled rehearsal hits the limit at the
same point of the job as the real thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, time_scale: float = 1.0, burst: int | None = None) -> None:
        self.capacity = float(burst if burst is not None else per_minute)
        self.rate = per_minute / (60.0 * time_scale)  # tokens per (sim) second
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, tenant: str, now: float) -> float | None:
        """Take one call; None if allowed, else seconds until one is available."""
        bucket = self._buckets.get(tenant)
        if bucket is None:
            bucket = self._buckets[tenant] = _Bucket(self.capacity, now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after_header(wait: float) -> str:
        return str(max(1, math.ceil(wait)))

    def reset(self) -> None:
        self._buckets.clear()
