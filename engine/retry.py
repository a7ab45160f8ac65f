"""Backoff for transient failures: exponential with full jitter.

Full jitter (AWS architecture blog, "Exponential Backoff and Jitter") spreads
retries of many units that failed together, which matters against a shared
tenant rate limit.
"""

from __future__ import annotations

import random

from engine.spec import RetryPolicy

DEFAULT_RETRY = RetryPolicy()


def backoff_delay(
    policy: RetryPolicy,
    attempt: int,
    rng: random.Random,
    retry_after: float | None = None,
) -> float:
    """Delay before the attempt after failed attempt `attempt` (1-based)."""
    delay = rng.uniform(0.0, policy.ceiling(attempt))
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.max_delay))
    return delay
