"""The adaptive rate limiter: per-key buckets starting from the given limits,
halving on a 429 (one halving per volley, Retry-After honoured as a pause) and
recovering additively. Deterministic: fake clock moved only by the fake sleep."""

from __future__ import annotations

import pytest

from engine.limits import KeyedLimiter, RateLimiter, TokenBucket

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_burst_then_the_refill_rate() -> None:
    clock = Clock()
    limiter = KeyedLimiter({}, (100.0, 200.0), clock=clock, sleep=clock.sleep)
    assert isinstance(limiter, RateLimiter)
    for _ in range(200):
        await limiter.acquire(key="wifi")
    assert clock.now == 0.0  # the documented burst of 200 goes at once
    for _ in range(100):
        await limiter.acquire(key="wifi")
    assert clock.now == pytest.approx(1.0)  # then 100 per second


async def test_keys_have_their_own_buckets_and_limits() -> None:
    clock = Clock()
    limiter = KeyedLimiter({"dpsk": (1.0, 1.0)}, (100.0, 200.0), clock=clock, sleep=clock.sleep)
    await limiter.acquire(key="dpsk")
    for _ in range(200):
        await limiter.acquire(key="wifi")  # not held up by the empty dpsk bucket
    assert clock.now == 0.0
    await limiter.acquire(key="dpsk")
    assert clock.now == pytest.approx(1.0)
    limiter.penalize(5.0, key="dpsk")
    assert limiter.bucket("wifi").rate == pytest.approx(100.0)  # a 429 slows its family only


async def test_halves_once_per_volley_honours_retry_after_and_recovers_additively() -> None:
    clock = Clock()
    bucket = TokenBucket(6000, 200, recovery=30.0, clock=clock, sleep=clock.sleep)  # 100/s
    bucket.penalize(2.0)
    for _ in range(9):  # the other calls in flight get their 429s too: one signal
        bucket.penalize(2.0)
    assert bucket.rate == pytest.approx(50.0) and bucket.halvings == 1
    await bucket.acquire()
    assert clock.now == pytest.approx(2.0 + 1 / 50)  # paused for Retry-After, then paced
    step = 100 / 2 / 30  # calls/s regained per calm second: half the nominal in 30 s
    bucket.penalize(None)  # a later 429 (no Retry-After): halves again, pauses 1/rate
    halved = (50.0 + 0.02 * step) / 2
    assert bucket.rate == pytest.approx(halved) and bucket.halvings == 2
    clock.now = bucket._paused_until + 15.0  # the pause (1/rate), then 15 calm seconds
    bucket._refill()
    assert bucket.rate == pytest.approx(halved + 15.0 * step)  # additive, not multiplicative
    clock.now += 1000.0
    bucket._refill()
    assert bucket.rate == pytest.approx(100.0)  # never above the nominal rate


async def test_the_rate_never_drops_below_its_floor() -> None:
    clock = Clock()
    bucket = TokenBucket(6000, 200, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        bucket.penalize(0.0)
        clock.now += 0.001
    assert bucket.rate == pytest.approx(100.0 / 16)
