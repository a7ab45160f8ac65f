"""Global/per-phase limits, activity waits that hold no slot, retry and backoff."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from engine import ActivityResult, JobStatus, PhaseSpec, RetryPolicy, WorkflowSpec
from tests.engine.helpers import Opts, Recorder, Unit, chain_spec, make_engine, run_job, units

pytestmark = pytest.mark.anyio


async def test_global_and_per_phase_limits_are_never_exceeded(redis, prefix):
    rec = Recorder()
    spec = chain_spec(rec, concurrency={"b": 2}, yields=20)
    engine = make_engine(redis, prefix, spec, max_in_flight=5)
    async with engine.running():
        _, view = await run_job(engine, "chain", units(*[f"u{i}" for i in range(60)]))
    assert view.status == JobStatus.COMPLETED
    assert 1 < rec.max_in_flight <= 5
    assert rec.phase_max["b"] <= 2


async def test_an_in_flight_limit_of_one_runs_one_cell_at_a_time(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, yields=5), max_in_flight=1)
    async with engine.running():
        _, view = await run_job(engine, "chain", units("u0", "u1", "u2"))
    assert view.status == JobStatus.COMPLETED
    assert rec.max_in_flight == 1 and len(rec.log) == 9


class Backend:
    """A test activity backend: activities finish when the test says so."""

    max_batch = 7

    def __init__(self) -> None:
        self.done: set[str] = set()
        self.queries: list[int] = []
        self.submitted = 0
        self.all_submitted = anyio.Event()
        self.expected = 0

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
        self.queries.append(len(ids))
        return {i: ActivityResult(id=i, status="SUCCESS") for i in ids if i in self.done}


class Submit:
    """Makes one 'call', then waits on an activity without holding a slot."""

    def __init__(self, backend: Backend, rec: Recorder) -> None:
        self.backend = backend
        self.rec = rec

    async def run(self, ctx):
        self.rec.in_flight += 1
        self.rec.max_in_flight = max(self.rec.max_in_flight, self.rec.in_flight)
        await anyio.sleep(0)
        self.rec.in_flight -= 1
        self.backend.submitted += 1
        if self.backend.submitted == self.backend.expected:
            self.backend.all_submitted.set()
        await ctx.wait_activity(self.backend, f"req-{ctx.unit_key}")
        return {"activity": f"req-{ctx.unit_key}"}


async def test_activity_waits_hold_no_slot_and_are_polled_in_bulk(redis, prefix):
    rec = Recorder()
    backend = Backend()
    backend.expected = 40
    spec = WorkflowSpec(
        name="acts", title="acts", unit_model=Unit, options_model=Opts,
        phases=(PhaseSpec(id="submit", title="Submit", executor=Submit(backend, rec),
                          outputs=("activity",)),),
    )  # fmt: skip
    engine = make_engine(redis, prefix, spec, max_in_flight=3, activity_batch=500,
                         activity_min_interval=0.001)  # fmt: skip
    async with engine.running():
        plan = await engine.plan("acts", units(*[f"u{i:02d}" for i in range(40)]))
        await engine.confirm(plan.job_id, plan.digest)
        with anyio.fail_after(10):
            await backend.all_submitted.wait()  # 40 outstanding with only 3 slots
            while (await engine.get(plan.job_id)).phases[0].counts["waiting"] < 40:
                await anyio.sleep(0.005)  # until the journal's flush lands in Redis
        backend.done.update(f"req-u{i:02d}" for i in range(40))
        view = await engine.wait(plan.job_id, timeout=10)
    assert view.status == JobStatus.COMPLETED
    assert rec.max_in_flight <= 3
    assert max(backend.queries) <= Backend.max_batch  # batches capped at the backend's max
    # bulk: with 40 waiting, polls carry full batches rather than one id per waiter
    assert Backend.max_batch in backend.queries


async def test_transient_errors_retry_with_bounded_backoff(redis, prefix):
    rec = Recorder()
    policy = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=3.0)
    delays: list[float] = []

    async def record_sleep(d: float) -> None:
        delays.append(d)

    engine = make_engine(redis, prefix, chain_spec(rec, retry=policy), sleep=record_sleep)
    async with engine.running():
        plan, view = await run_job(engine, "chain", [{"name": "u", "flaky": {"b": 3}}])
    assert view.status == JobStatus.COMPLETED
    assert rec.attempts[("u", "b")] == 4
    detail = await engine.unit(plan.job_id, "u")
    attempts = detail.attempts["b"]
    assert [a.n for a in attempts] == [1, 2, 3]
    for a in attempts:
        assert a.transient and a.error == "b flaked"
        assert 0 <= a.delay <= policy.ceiling(a.n)
    assert delays == [a.delay for a in attempts]
    retrying = [
        e.event for e in await engine.events(plan.job_id) if e.event.type == "phase_retrying"
    ]
    assert [(e.attempt, e.delay) for e in retrying] == [(a.n, a.delay) for a in attempts]
    assert detail.phases["b"].attempts == 4


async def test_the_engines_seed_makes_backoff_jitter_reproducible(redis, prefix):
    """Two engines seeded alike back off alike: the worker runs jobs with its engine's
    seeded random source, not a fresh one."""
    policy = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=30.0)
    runs: list[list[float]] = []
    for _ in range(2):
        delays: list[float] = []

        async def record_sleep(d: float, delays: list[float] = delays) -> None:
            delays.append(d)

        rec = Recorder()
        engine = make_engine(redis, prefix, chain_spec(rec, retry=policy), sleep=record_sleep)
        async with engine.running():
            _, view = await run_job(engine, "chain", [{"name": "u", "flaky": {"b": 5}}])
        assert view.status == JobStatus.COMPLETED
        runs.append(delays)
    assert len(runs[0]) == 5 and len(set(runs[0])) == 5
    assert runs[0] == runs[1]


async def test_retries_are_bounded_then_the_unit_fails(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, retry=RetryPolicy(max_attempts=2)))
    async with engine.running():
        plan, view = await run_job(
            engine, "chain", [{"name": "u", "flaky": {"a": 5}}, {"name": "v"}]
        )
    assert view.status == JobStatus.PARTIAL
    assert rec.attempts[("u", "a")] == 2
    detail = await engine.unit(plan.job_id, "u")
    assert detail.phases["a"].state == "failed"
    assert len(detail.attempts["a"]) == 2


async def test_permanent_errors_do_not_retry(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    async with engine.running():
        await run_job(engine, "chain", [{"name": "u", "fail": ["a"]}])
    assert rec.attempts[("u", "a")] == 1
