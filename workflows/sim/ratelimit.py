"""Token buckets per tenant and per service family, refilled on the simulator's clock.

R1 documents (Wi-Fi API 17.3.3, Venue API 0.2.8) a bucket per tenant of 200
calls with 100 returned each second; the other services document none and get
the same figure here unless configured (`SimConfig.rate_limit_families`). The
family of a call is its document's (`workflows.r1.services`). The older model,
one bucket per tenant for every service, is kept for `rate_limit_per_minute`.
With `time_scale` < 1 the second shrinks with every other duration, so a
scaled rehearsal hits the limit at the same point of the job as the real thing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workflows.r1.services import family_of

if TYPE_CHECKING:
    from workflows.sim.config import SimConfig


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    capacity: float
    rate: float  # tokens per (sim) second


class RateLimiter:
    def __init__(
        self,
        per_minute: float,
        time_scale: float = 1.0,
        burst: float | None = None,
        *,
        families: Mapping[str, tuple[float, float]] | None = None,
        per_family: bool = False,
    ) -> None:
        self.capacity = float(burst if burst is not None else per_minute)
        self.rate = per_minute / (60.0 * time_scale)  # tokens per (sim) second
        self.time_scale = time_scale
        self.families = dict(families or {})
        """family -> (calls per second, burst), overriding the default."""
        self.per_family = per_family
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def family(self, route: str) -> str:
        return family_of(route) if self.per_family and route else ""

    def _new(self, family: str, now: float) -> _Bucket:
        if family in self.families:
            per_second, burst = self.families[family]
            return _Bucket(float(burst), now, float(burst), per_second / self.time_scale)
        return _Bucket(self.capacity, now, self.capacity, self.rate)

    def acquire(self, tenant: str, now: float, route: str = "") -> float | None:
        """Take one call; None if allowed, else seconds until one is available."""
        key = (tenant, self.family(route))
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = self._new(key[1], now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(bucket.capacity, bucket.tokens + elapsed * bucket.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / bucket.rate

    @staticmethod
    def retry_after_header(wait: float) -> str:
        return str(max(1, math.ceil(wait)))

    def retry_after(self, wait: float) -> str:
        """The Retry-After for a wait of `acquire` (the simulator's clock): said in R1
        seconds like every duration R1 states (its client scales them all back)."""
        return self.retry_after_header(wait / self.time_scale)

    def reset(self) -> None:
        self._buckets.clear()


def rate_limiter_for(cfg: SimConfig) -> RateLimiter:
    """The buckets a `SimConfig` asks for (per family unless `rate_limit_per_minute`)."""
    if cfg.rate_limit_per_minute is not None:
        return RateLimiter(cfg.rate_limit_per_minute, cfg.time_scale, cfg.rate_limit_burst)
    burst = cfg.rate_limit_burst if cfg.rate_limit_burst is not None else 200
    return RateLimiter(
        cfg.rate_limit_per_second * 60.0, cfg.time_scale, burst,
        families=cfg.rate_limit_families, per_family=True,
    )  # fmt: skip


def rate_limit_info(cfg: SimConfig) -> dict[str, object]:
    """The limits this simulator enforces, in R1 seconds, for `GET /_sim/info`: a
    client of a simulator starts from them as it would from R1's documented ones."""
    if cfg.rate_limit_per_minute is not None:  # one bucket for every family
        burst = cfg.rate_limit_burst or cfg.rate_limit_per_minute
        return {"perSecond": cfg.rate_limit_per_minute / 60.0, "burst": burst, "families": {}}
    return {
        "perSecond": cfg.rate_limit_per_second,
        "burst": cfg.rate_limit_burst if cfg.rate_limit_burst is not None else 200,
        "families": {k: list(v) for k, v in cfg.rate_limit_families.items()},
    }
