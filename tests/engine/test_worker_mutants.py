"""Leases, takeover, confirmation and cancel, pinned down (mutmut's survivors in
engine/worker.py and engine/service.py).

Real engines on real Redis. Where a test must know that nothing is left to
flush (so that a cancel can only arrive by the path under test), it waits for
the cell's start to be in Redis: after that a gated cell writes nothing more.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import anyio
import pytest

from engine import ActivityResult, JobStatus, PhaseSpec, WorkflowSpec
from engine.errors import (
    ConfirmationRequired,
    ConflictsPresent,
    DigestMismatch,
    JobNotFound,
    PlanExpired,
    WrongState,
)
from engine.events import CancelRequested
from engine.models import CellRecord, PhasePlan
from engine.planner_lease import DEAD_PLANNER
from tests.engine.helpers import Opts, Recorder, Unit, chain_spec, make_engine, units

pytestmark = pytest.mark.anyio


async def started_in_redis(engine, job_id: str, unit: str, phase: str) -> None:
    """Wait (bounded) until the cell's start has been flushed to Redis."""
    with anyio.fail_after(20):
        while not any(
            e.event.type == "phase_started" and (e.event.unit, e.event.phase) == (unit, phase)
            for e in await engine.events(job_id)
        ):
            await anyio.sleep(0.01)


async def finished_events(engine, job_id: str) -> list:
    return [e.event for e in await engine.events(job_id) if e.event.type == "job_finished"]


# -- fencing ------------------------------------------------------------------


async def test_a_worker_whose_fence_was_taken_writes_no_final_status(redis, prefix):
    """Another worker claimed the job meanwhile (the fence moved on): this one's
    flush is refused, it stops, and it neither finishes nor fails the job."""
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, phases=("a",), gated=True))
    async with engine.running(worker=False):
        plan = await engine.plan("chain", units("u0"))
        await engine.confirm(plan.job_id, plan.digest)
        result: list = []

        async def run() -> None:
            result.append(await engine.worker.run_job(plan.job_id))

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await rec.started[("u0", "a")].wait()
            await redis.incr(engine.store.job(plan.job_id).fence)  # a newer owner's token
            rec.gate("u0", "a").set()
        assert result == [None]
        view = await engine.get(plan.job_id)
        assert view.status == JobStatus.RUNNING  # left to the fence's holder
        assert await finished_events(engine, plan.job_id) == []
        assert engine.worker.finished == 0


# -- the final status -------------------------------------------------------------


async def test_cells_cancelled_by_an_earlier_owner_end_the_job_cancelled(redis, prefix):
    """Nothing failed and no cancel is pending, but u0's last cell was cancelled
    (by an earlier owner): the job ends CANCELLED, never COMPLETED."""
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, phases=("a", "b")))
    async with engine.running(worker=False):
        plan = await engine.plan("chain", units("u0", "u1"))
        await engine.confirm(plan.job_id, plan.digest)
        await engine.store.reset_cells(
            plan.job_id,
            {
                "0|a": CellRecord(state="succeeded", attempts=1),
                "0|b": CellRecord(state="cancelled", attempts=1, outcome_unknown=True),
            },
        )
        assert await engine.worker.run_job(plan.job_id) == JobStatus.CANCELLED
    assert rec.log == [("u1", "a"), ("u1", "b")]
    view = await engine.get(plan.job_id)
    assert view.status == JobStatus.CANCELLED


async def test_a_completed_job_records_its_end_and_no_error(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, phases=("a",)))
    async with engine.running(worker=False):
        for _ in range(2):
            plan = await engine.plan("chain", units("u0", "u1"))
            await engine.confirm(plan.job_id, plan.digest)
            assert await engine.worker.run_job(plan.job_id) == JobStatus.COMPLETED
    assert engine.worker.finished == 2
    view = await engine.get(plan.job_id)
    assert view.status == JobStatus.COMPLETED
    assert view.finished_at is not None and view.error is None
    (fin,) = await finished_events(engine, plan.job_id)
    assert fin.status == "COMPLETED" and fin.error is None
    assert fin.units_by_state["succeeded"] == 2 and fin.units_by_state["failed"] == 0


async def test_an_aborted_job_records_why(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, phases=("a",)), max_in_flight=1)
    async with engine.running(worker=False):
        plan = await engine.plan(
            "chain", [{"name": "u0", "fail": ["a"]}, {"name": "u1"}], max_failed_units=0
        )
        await engine.confirm(plan.job_id, plan.digest)
        assert await engine.worker.run_job(plan.job_id) == JobStatus.FAILED
    why = "1 units failed (max_failed_units=0)"
    view = await engine.get(plan.job_id)
    assert (view.status, view.error) == (JobStatus.FAILED, why)
    assert view.finished_at is not None
    (fin,) = await finished_events(engine, plan.job_id)
    assert (fin.status, fin.error) == ("FAILED", why)
    assert fin.units_by_state["failed"] == 1


async def test_a_paused_job_is_not_finished(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, phases=("a",)), max_in_flight=1)
    async with engine.running(worker=False):
        plan = await engine.plan(
            "chain",
            [{"name": "u0", "fail": ["a"]}, {"name": "u1"}],
            max_failed_units=0,
            on_max_failed="pause",
        )
        await engine.confirm(plan.job_id, plan.digest)
        assert await engine.worker.run_job(plan.job_id) == JobStatus.PAUSED
    view = await engine.get(plan.job_id)
    assert view.status == JobStatus.PAUSED
    assert view.finished_at is None


# -- cancel -----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["owner", "elsewhere"])
async def test_a_hard_cancel_reaches_a_job_with_nothing_left_to_flush(redis, prefix, where):
    """The cell hangs and its start is already in Redis, so nothing is flushed any
    more: the owner reads the request from the job's meta, whoever made it."""
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, gated=True), max_in_flight=1)
    face = engine if where == "owner" else make_engine(redis, prefix, chain_spec(Recorder()))
    async with engine.running():
        plan = await engine.plan("chain", units("u0", "u1"))
        await engine.confirm(plan.job_id, plan.digest)
        await started_in_redis(engine, plan.job_id, "u0", "a")
        await face.cancel(plan.job_id, hard=True)
        view = await engine.wait(plan.job_id, timeout=20)
    assert view.status == JobStatus.CANCELLED
    assert rec.log == []
    detail = await engine.unit(plan.job_id, "u0")
    assert detail.phases["a"].outcome_unknown is True


class NeverDone:
    """An activity backend whose activities never finish (a long provisioning)."""

    max_batch = 100
    poll_intervals = (0.01, 0.05)

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
        return {i: ActivityResult(id=i, status="INPROGRESS") for i in ids}


class AwaitsActivity:
    def __init__(self, backend: NeverDone) -> None:
        self.backend = backend

    async def plan(self, ctx: Any) -> PhasePlan:
        return PhasePlan(action="run")

    async def run(self, ctx: Any) -> dict[str, Any]:
        await ctx.wait_activity(self.backend, f"activity-{ctx.unit_key}")
        return {}


async def test_a_persisted_cancel_reaches_a_job_whose_cells_all_wait(redis, prefix):
    """Every cell waits on an activity that does not finish, so nothing is flushed;
    the request is only persisted in the job's meta (its maker died right after):
    the owner still honours it, within its cancel poll."""
    step = AwaitsActivity(NeverDone())
    phases = (
        PhaseSpec(id="a", title="A", executor=step),
        PhaseSpec(id="b", title="B", executor=step, depends_on=("a",)),
    )
    spec = WorkflowSpec(name="waits", title="w", phases=phases, unit_model=Unit, options_model=Opts)
    engine = make_engine(redis, prefix, spec)
    async with engine.running():
        plan = await engine.plan("waits", units("u0", "u1"))
        await engine.confirm(plan.job_id, plan.digest)
        with anyio.fail_after(20):
            while (await engine.get(plan.job_id)).phases[0].counts["waiting"] < 2:
                await anyio.sleep(0.01)
        event = CancelRequested(ts=engine.clock(), job_id=plan.job_id, mode="hard")
        assert await engine.store.requests.cancel(plan.job_id, "hard", event.ts, event) == (
            "requested",
            "RUNNING",
        )
        view = await engine.wait(plan.job_id, timeout=20)
    assert view.status == JobStatus.CANCELLED
    for unit in ("u0", "u1"):
        detail = await engine.unit(plan.job_id, unit)
        assert detail.phases["a"].outcome_unknown is True
        assert detail.phases["b"].state == "cancelled"


async def test_cancelling_a_finished_job_says_what_it_is(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, phases=("a",)))
    async with engine.running(worker=False):
        plan = await engine.plan("chain", units("u0"))
        await engine.confirm(plan.job_id, plan.digest)
        await engine.worker.run_job(plan.job_id)
        with pytest.raises(WrongState) as err:
            await engine.cancel(plan.job_id)
    assert str(err.value) == f"job {plan.job_id} is COMPLETED; nothing to cancel"


# -- leases and takeover ------------------------------------------------------------


async def test_the_lease_lasts_exactly_the_configured_ttl(redis, prefix):
    rec = Recorder()
    spec = chain_spec(rec, phases=("a",), gated=True)
    engine = make_engine(redis, prefix, spec, lease_ttl=1000.0)
    async with engine.running():
        plan = await engine.plan("chain", units("u0"))
        await engine.confirm(plan.job_id, plan.digest)
        await rec.started[("u0", "a")].wait()
        pttl = await redis.pttl(engine.store.job(plan.job_id).lease)
        rec.gate("u0", "a").set()
        await engine.wait(plan.job_id, timeout=20)
    assert 990_000 < pttl <= 1_000_000


async def test_recovery_takes_over_a_job_of_its_target_with_no_target_recorded(redis, prefix):
    """A job whose meta has no target (as the claim script reads it: '') is the
    default target's: its worker takes it over when the owner is gone."""
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, phases=("a",)))
    async with engine.running(worker=False):
        plan = await engine.plan("chain", units("u0"))
        await engine.confirm(plan.job_id, plan.digest)
        meta = engine.store.job(plan.job_id).meta
        await redis.hdel(meta, "target")
        await redis.hset(meta, "status", JobStatus.RUNNING.value)  # its owner died
        async with anyio.create_task_group() as tg:
            await engine.worker.recover(tg)
        view = await engine.get(plan.job_id)
    assert view.status == JobStatus.COMPLETED
    assert rec.log == [("u0", "a")]


# -- confirmation ---------------------------------------------------------------------


async def test_confirm_names_what_is_wrong(redis, prefix):
    now = [1000.0]
    rec = Recorder()
    engine = make_engine(
        redis, prefix, chain_spec(rec, phases=("a",)), plan_ttl=60, clock=lambda: now[0]
    )
    with pytest.raises(JobNotFound) as err:
        await engine.confirm("nope", "0" * 32)
    assert str(err.value) == "no job 'nope'"
    plan = await engine.plan("chain", units("u1"))
    with pytest.raises(DigestMismatch) as err:
        await engine.confirm(plan.job_id, "0" * 32)
    assert str(err.value) == f"plan digest does not match job {plan.job_id}'s current plan"
    now[0] += 61
    with pytest.raises(PlanExpired) as err:
        await engine.confirm(plan.job_id, plan.digest)
    assert str(err.value) == f"the plan of job {plan.job_id} expired; plan again"
    with pytest.raises(WrongState) as err:
        await engine.confirm(plan.job_id, plan.digest)
    assert str(err.value) == f"job {plan.job_id} is EXPIRED, not awaiting confirmation"
    conflicted = await engine.plan("chain", [{"name": "u", "fail": ["conflict:a"]}])
    with pytest.raises(ConflictsPresent) as err:
        await engine.confirm(conflicted.job_id, conflicted.digest)
    assert str(err.value) == f"the plan of job {conflicted.job_id} has 1 conflict(s) to resolve"


@pytest.mark.parametrize("destructive", [False, True])
async def test_only_a_destructive_plan_needs_its_confirm_text(redis, prefix, destructive):
    rec = Recorder()
    spec = dataclasses.replace(
        chain_spec(rec, phases=("a",)),
        destructive=destructive,
        confirm_text=lambda _opts: "DELETE all",
    )
    engine = make_engine(redis, prefix, spec)
    plan = await engine.plan("chain", units("u1"))
    if destructive:
        with pytest.raises(ConfirmationRequired) as err:
            await engine.confirm(plan.job_id, plan.digest)
        assert str(err.value) == "this plan deletes resources: type 'DELETE all' to confirm"
        view = await engine.confirm(plan.job_id, plan.digest, confirm_text="DELETE all")
    else:
        view = await engine.confirm(plan.job_id, plan.digest)
    assert view.status == JobStatus.QUEUED


async def test_recovery_fails_a_job_whose_planner_died_at_the_current_time(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, phases=("a",)), clock=lambda: 1234.0)
    meta = {"status": "PLANNING", "workflow": "chain", "target": "", "created_at": 1.0}
    await engine.store.create_job("dead", meta, ["u0"], ['{"name": "u0"}'], 1.0, ("p-1", 60_000))
    await redis.delete(engine.store.job("dead").planner)  # its planner's lease lapsed
    async with anyio.create_task_group() as tg:
        await engine.worker.recover(tg)
    view = await engine.get("dead")
    assert (view.status, view.error) == (JobStatus.FAILED, DEAD_PLANNER)
    assert view.finished_at == 1234.0
