"""Backoff honours a server's Retry-After (never sooner), capped by the policy's max."""

from __future__ import annotations

import random

from engine.retry import backoff_delay
from engine.spec import RetryPolicy


def test_retry_after_is_a_floor_capped_by_max_delay() -> None:
    policy = RetryPolicy(base_delay=0.01, max_delay=5.0)
    rng = random.Random(1)
    for attempt in (1, 2, 3):
        assert backoff_delay(policy, attempt, rng, retry_after=2.0) == 2.0
        assert backoff_delay(policy, attempt, rng, retry_after=60.0) == 5.0
        assert 0.0 <= backoff_delay(policy, attempt, rng) <= policy.ceiling(attempt)


def test_full_jitter_stays_under_the_ceiling() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)
    rng = random.Random(2)
    delays = [backoff_delay(policy, 3, rng, retry_after=0.5) for _ in range(200)]
    assert all(0.5 <= d <= 4.0 for d in delays)
    assert max(delays) > 2.0  # jitter spans the range, not a constant
