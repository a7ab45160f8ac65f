"""Backoff for transient failures: exponential with full jitter.

Full jitter (AWS architecture blog, "Exponential Backoff and Jitter") spreads
retries of many units that failed together, which matters against a shared
tenant rate limit.

A policy's durations are the target's (R1 seconds): against a time-scaled target
(a simulator at 1/10) the engine runs it `scaled`, so a rehearsal backs off as
long, in the target's time, as the real run would.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from engine.spec import PhaseSpec, RetryPolicy

DEFAULT_RETRY = RetryPolicy()


def backoff_delay(
    policy: RetryPolicy,
    attempt: int,
    rng: random.Random,
    retry_after: float | None = None,
) -> float:
    """Delay before the attempt after failed attempt `attempt` (1-based); a
    `retry_after` is the target's (seconds of its clock, as it said it)."""
    delay = rng.uniform(0.0, policy.ceiling(attempt))
    if retry_after is not None:
        delay = max(delay, min(retry_after * policy.time_scale, policy.max_delay))
    return delay


def scaled(policy: RetryPolicy, time_scale: float) -> RetryPolicy:
    """The policy in our seconds for a target whose second lasts `time_scale` of ours."""
    if time_scale == 1.0:
        return policy
    return replace(
        policy,
        base_delay=policy.base_delay * time_scale,
        max_delay=policy.max_delay * time_scale,
        rate_limit_max_wait=policy.rate_limit_max_wait * time_scale,
        time_scale=policy.time_scale * time_scale,
    )


def scaled_phases(phases: Sequence[PhaseSpec], time_scale: float) -> list[PhaseSpec]:
    """The phases with their retry policies (the default's too) `scaled`."""
    if time_scale == 1.0:
        return list(phases)
    return [replace(p, retry=scaled(p.retry or DEFAULT_RETRY, time_scale)) for p in phases]
