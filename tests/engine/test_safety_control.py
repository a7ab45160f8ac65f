"""Safety of control across owners: a job runs only on its target's workers, a
cancel survives a takeover, and resumes and 429s spend no retry budget."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from engine import Engine, EngineConfig, JobStatus, PhaseSpec, Registry, WorkflowSpec
from engine.errors import RateLimitedError
from engine.keys import GlobalKeys
from engine.models import CellState
from engine.spec import RetryPolicy
from engine.targets import Target
from tests.engine.helpers import Opts, Recorder, Unit, chain_spec, instant_sleep, units

pytestmark = pytest.mark.anyio

TENANT_A = Target(id="r1:tenant-a@https://api.example", label="R1 tenant A")
TENANT_B = Target(id="r1:tenant-b@https://api.example", label="R1 tenant B")


def engine_for(redis, prefix: str, spec: WorkflowSpec, target: Target, **kw: Any) -> Engine:
    cfg = EngineConfig(prefix=prefix, lease_ttl=1.0)
    return Engine(
        redis, Registry([spec]), cfg, target=target, resources={"tenant": target.id},
        sleep=instant_sleep, seed=1, **kw,
    )  # fmt: skip


class Where:
    """Executor: records on which tenant (the engine's resources) each cell ran."""

    def __init__(self) -> None:
        self.ran: list[tuple[str | None, str]] = []

    async def run(self, ctx: Any) -> None:
        self.ran.append((ctx.unit_key, ctx.resources["tenant"]))


def where_spec(where: Where) -> WorkflowSpec:
    return WorkflowSpec(
        name="where", title="where", unit_model=Unit, options_model=Opts,
        phases=(PhaseSpec(id="a", title="A", executor=where),),
    )  # fmt: skip


async def test_a_job_runs_only_on_a_worker_of_the_target_it_was_planned_for(redis, prefix):
    where = Where()
    planner_a = engine_for(redis, prefix, where_spec(where), TENANT_A)
    worker_b = engine_for(redis, prefix, where_spec(where), TENANT_B)
    async with worker_b.running():
        plan = await planner_a.plan("where", units("u1", "u2"))
        await planner_a.confirm(plan.job_id, plan.digest)
        # B's worker is offered the job directly (as recovery would): it refuses it
        assert await worker_b.worker.run_job(plan.job_id) is None
        await worker_b.worker.recover(None)  # nothing to start: no task group needed
        view = await worker_b.get(plan.job_id)
        assert view.status == JobStatus.QUEUED
        assert view.target == "R1 tenant A"
        assert view.waiting == "waiting: no live worker serves R1 tenant A"
        queue_a = GlobalKeys(prefix).queue(TENANT_A.key)
        assert await redis.lrange(queue_a, 0, -1) == [plan.job_id]
        worker_a = engine_for(redis, prefix, where_spec(where), TENANT_A)
        async with worker_a.running():
            view = await worker_a.wait(plan.job_id, timeout=20)
    assert view.status == JobStatus.COMPLETED and view.waiting is None
    assert sorted(where.ran) == [("u1", TENANT_A.id), ("u2", TENANT_A.id)]


async def owner_dies_mid_cell(redis, prefix: str, rec: Recorder, names: list[str]) -> str:
    """Plan and confirm on tenant A; the owner stops with every unit's cell `a` in
    flight (the job stays RUNNING, as after a crash). Returns the job id."""
    first = engine_for(redis, prefix, chain_spec(rec, gated=True), TENANT_A)
    async with first.running():
        plan = await first.plan("chain", units(*names))
        await first.confirm(plan.job_id, plan.digest)
        for name in names:
            await rec.started[(name, "a")].wait()
    return plan.job_id


async def test_a_takeover_goes_only_to_a_worker_of_the_same_target(redis, prefix):
    rec = Recorder()
    job_id = await owner_dies_mid_cell(redis, prefix, rec, ["u0"])
    # A's process is gone with the job RUNNING; B's worker must not take it over
    rec.gate("u0", "a").set()
    other = engine_for(redis, prefix, chain_spec(rec), TENANT_B)
    await redis.delete(other.store.job(job_id).lease)  # as if the lease had expired
    assert await other.worker.run_job(job_id) is None
    assert (await other.get(job_id)).waiting == "waiting: no live worker serves R1 tenant A"
    same = engine_for(redis, prefix, chain_spec(rec), TENANT_A)
    async with same.running():
        view = await same.wait(job_id, timeout=20)
    assert view.status == JobStatus.COMPLETED


@pytest.mark.parametrize("hard", [False, True])
async def test_a_cancel_is_honoured_by_the_worker_that_takes_the_job_over(redis, prefix, hard):
    rec = Recorder()
    job_id = await owner_dies_mid_cell(redis, prefix, rec, ["u0", "u1"])
    # the owner died with both cells in flight; the cancel is acknowledged meanwhile
    face = engine_for(redis, prefix, chain_spec(rec), TENANT_A)
    view = await face.cancel(job_id, hard=hard)
    assert view.status == JobStatus.RUNNING
    assert view.cancel_requested == ("hard" if hard else "graceful")
    for key in list(rec.gates):
        rec.gate(*key).set()
    rec.gates.clear()
    runs_before = len(rec.log)
    successor = engine_for(redis, prefix, chain_spec(rec), TENANT_A)
    async with successor.running():
        view = await successor.wait(job_id, timeout=20)
        assert view.status == JobStatus.CANCELLED  # never COMPLETED
        assert len(rec.log) == runs_before  # nothing new started after the cancel
        cells = await successor.store.cells(job_id)
        interrupted = [cells[f"{row}|a"] for row in ("0", "1")]
        assert all(c.state == CellState.CANCELLED and c.outcome_unknown for c in interrupted)
        # a cancelled job can be retried, and then it runs to the end
        await successor.retry(job_id)
        view = await successor.wait(job_id, timeout=20)
    assert view.status == JobStatus.COMPLETED
    assert view.units_by_state["succeeded"] == 2


async def test_a_hard_cancel_is_never_downgraded_by_a_later_graceful_one(redis, prefix):
    rec = Recorder()
    job_id = await owner_dies_mid_cell(redis, prefix, rec, ["u0"])
    face = engine_for(redis, prefix, chain_spec(rec), TENANT_A)
    await face.cancel(job_id, hard=True)
    view = await face.cancel(job_id, hard=False)
    assert view.cancel_requested == "hard"


async def test_resumes_spend_no_retry_budget(redis, prefix):
    """Three owners die mid-cell; the cell's first real error is still retried."""
    rec = Recorder()
    policy = RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)
    flaky = [{"name": "u0", "flaky": {"a": 4}}]  # executor calls 1-3 interrupted, 4 fails
    plan = None
    for n in range(3):
        owner = engine_for(redis, prefix, chain_spec(rec, gated=True, retry=policy), TENANT_A)
        async with owner.running():
            if plan is None:
                plan = await owner.plan("chain", flaky)
                await owner.confirm(plan.job_id, plan.digest)
            await rec.started[("u0", "a")].wait()
        rec.started.clear()
        await redis.delete(owner.store.job(plan.job_id).lease)  # the dead owner's lease lapsed
        assert rec.attempts[("u0", "a")] == n + 1
    last = engine_for(redis, prefix, chain_spec(rec, retry=policy), TENANT_A)
    async with last.running():
        view = await last.wait(plan.job_id, timeout=20)
    assert view.status == JobStatus.COMPLETED
    cell = (await last.store.cells(plan.job_id))["0|a"]
    assert (cell.attempts, cell.failures) == (5, 1)  # five starts, one failure


class Throttled:
    """Executor answered 429 `times` times (Retry-After 60 s each), then success."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls = 0

    async def run(self, ctx: Any) -> None:
        self.calls += 1
        if self.calls <= self.times:
            raise RateLimitedError("rate limited (HTTP 429)", retry_after=60.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay
        await anyio.sleep(0)


@pytest.mark.parametrize(("times", "status"), [(20, "COMPLETED"), (40, "FAILED")])
async def test_rate_limiting_is_waiting_not_failing(redis, prefix, times, status):
    """20 x 429 at 60 s each is 20 minutes of waiting: inside the 30-minute bound,
    the cell succeeds although max_attempts is 2; 40 x 429 passes the bound."""
    throttled = Throttled(times)
    policy = RetryPolicy(max_attempts=2, max_delay=60.0, rate_limit_max_wait=1800.0)
    spec = WorkflowSpec(
        name="throttled", title="throttled", unit_model=Unit, options_model=Opts,
        phases=(PhaseSpec(id="a", title="A", executor=throttled, retry=policy),),
    )  # fmt: skip
    clock = FakeClock()
    eng = Engine(
        redis, Registry([spec]), EngineConfig(prefix=prefix), target=TENANT_A,
        clock=clock, sleep=clock.sleep, seed=1,
    )  # fmt: skip
    async with eng.running():
        plan = await eng.plan("throttled", units("u0"))
        await eng.confirm(plan.job_id, plan.digest)
        with anyio.fail_after(30):
            while not (view := await eng.get(plan.job_id)).status.terminal:
                await anyio.sleep(0.01)
    assert view.status == status
    cell = (await eng.store.cells(plan.job_id))["0|a"]
    assert cell.failures == 0  # 429s are waiting, not failures
    if status == "FAILED":  # its only unit failed: no unit succeeded
        assert throttled.calls == 31  # failed once 30 minutes of nothing but 429s had passed
