"""The target's durations in the engine follow `EngineConfig.time_scale`: a retry's
backoff and a Retry-After (told in target seconds), the patience with 429s and the
activity timeout; against a simulator at 1/100 they all last 1/100. Sleeps are
recorded, not waited."""

from __future__ import annotations

import random
from typing import Any

import anyio
import pytest

from engine import JobStatus, PhaseSpec, RateLimitedError, RetryPolicy, WorkflowSpec
from engine.config import EngineConfig
from engine.errors import TransientError
from engine.retry import backoff_delay, scaled
from engine.trackers import Trackers
from tests.engine.helpers import Opts, Unit, make_engine, run_job

pytestmark = pytest.mark.anyio


class FailsOnce:
    """The first attempt raises `error`; the next succeeds."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.attempts = 0

    async def run(self, ctx: Any) -> None:
        self.attempts += 1
        if self.attempts == 1:
            raise self.error


def test_a_scaled_policy_backs_off_in_our_seconds_and_reads_retry_after_in_the_targets():
    policy = scaled(RetryPolicy(base_delay=0.5, max_delay=30.0, rate_limit_max_wait=1800), 0.01)
    assert (policy.base_delay, policy.max_delay, policy.rate_limit_max_wait) == (
        pytest.approx(0.005), pytest.approx(0.3), pytest.approx(18.0),
    )  # fmt: skip

    rng = random.Random(1)
    assert backoff_delay(policy, 1, rng, retry_after=20.0) == pytest.approx(0.2)
    assert backoff_delay(policy, 1, rng, retry_after=500.0) == pytest.approx(0.3)  # capped
    assert 0 <= backoff_delay(policy, 3, rng) <= 0.02


async def test_a_scaled_engine_retries_after_the_targets_seconds_in_its_own(redis, prefix):
    limited = FailsOnce(RateLimitedError("429", retry_after=20.0))
    flaky = FailsOnce(TransientError("blip"))
    spec = WorkflowSpec(
        name="scaled", title="scaled", unit_model=Unit, options_model=Opts,
        phases=(PhaseSpec(id="a", title="A", executor=limited),
                PhaseSpec(id="b", title="B", executor=flaky, depends_on=("a",))),
    )  # fmt: skip
    delays: list[float] = []

    async def record_sleep(d: float) -> None:
        delays.append(d)
        await anyio.sleep(0)

    engine = make_engine(redis, prefix, spec, sleep=record_sleep, time_scale=0.01)
    async with engine.running():
        _, view = await run_job(engine, "scaled", [{"name": "u"}])
    assert view.status == JobStatus.COMPLETED
    assert len(delays) == 2
    assert delays[0] == pytest.approx(0.2)  # Retry-After: 20 R1 seconds
    assert 0 <= delays[1] <= 0.005  # the default policy's first backoff: 0.5 R1 s at most


async def test_the_activity_timeout_is_the_targets_too():
    class Backend:
        max_batch = 10

        async def query(self, ids: Any) -> dict[str, Any]:
            return {}

    trackers = Trackers(EngineConfig(time_scale=0.01, activity_timeout=600.0))
    async with anyio.create_task_group() as tg:
        trackers.start(tg)
        assert trackers.tracker_for(Backend()).timeout == pytest.approx(6.0)
        tg.cancel_scope.cancel()
