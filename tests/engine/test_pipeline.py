"""Per-unit pipelining, global phases, and the failure/skip rules."""

from __future__ import annotations

import anyio
import pytest

from engine import JobStatus, PhaseSpec, WorkflowSpec
from engine.models import CellState
from tests.engine.helpers import Opts, Recorder, Step, Unit, chain_spec, make_engine, run_job, units

pytestmark = pytest.mark.anyio


async def cell(engine, job_id, unit, phase) -> CellState:
    page = await engine.units(job_id, search=unit)
    [view] = [u for u in page.units if u.unit == unit]
    return view.phases[phase].state


async def test_unit_a_finishes_while_unit_b_is_still_in_phase_one(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, gated=True))
    async with engine.running():
        plan = await engine.plan("chain", units("A", "B"))
        await engine.confirm(plan.job_id, plan.digest)
        await rec.started[("B", "a")].wait()  # B sits in phase a, gate closed
        for phase in "abc":
            await rec.started[("A", phase)].wait()
            rec.gate("A", phase).set()
        with anyio.fail_after(10):
            while await cell(engine, plan.job_id, "A", "c") != CellState.SUCCEEDED:
                await anyio.sleep(0.01)
        # read back from Redis: A has finished phase c, B is still running phase a
        assert await cell(engine, plan.job_id, "B", "a") == CellState.RUNNING
        assert await cell(engine, plan.job_id, "B", "b") == CellState.PENDING
        for phase in "abc":
            rec.gate("B", phase).set()
        view = await engine.wait(plan.job_id, timeout=10)
    assert view.status == JobStatus.COMPLETED
    assert rec.log.index(("A", "c")) < rec.log.index(("B", "a"))


def mixed_spec(rec: Recorder) -> WorkflowSpec:
    """global setup -> per-unit a -> per-unit b -> global summary."""
    return WorkflowSpec(
        name="mixed",
        title="mixed",
        unit_model=Unit,
        options_model=Opts,
        phases=(
            PhaseSpec(id="setup", title="Setup", executor=Step(rec, "setup", outputs=["pool"]),
                      per_unit=False, outputs=("pool",)),
            PhaseSpec(id="a", title="A", executor=Step(rec, "a"), depends_on=("setup",),
                      inputs=("pool",)),
            PhaseSpec(id="b", title="B", executor=Step(rec, "b"), depends_on=("a",)),
            PhaseSpec(id="summary", title="Summary", executor=Step(rec, "summary"),
                      depends_on=("b",), per_unit=False),
        ),
    )  # fmt: skip


async def test_global_and_per_unit_phases_mix(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, mixed_spec(rec))
    async with engine.running():
        plan, view = await run_job(engine, "mixed", units("u1", "u2", "u3"))
    assert view.status == JobStatus.COMPLETED
    assert rec.log[0] == (None, "setup")
    assert rec.log[-1] == (None, "summary")
    page = await engine.units(plan.job_id)
    assert all(u.values == {} or "pool" not in u.values for u in page.units)
    progress = {p.id: p for p in view.phases}
    assert progress["setup"].total == 1 and progress["a"].total == 3
    assert progress["summary"].counts["succeeded"] == 1


async def test_global_summary_runs_even_when_a_unit_failed(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, mixed_spec(rec))
    async with engine.running():
        _, view = await run_job(engine, "mixed", [*units("ok"), {"name": "bad", "fail": ["a"]}])
    assert view.status == JobStatus.PARTIAL
    assert (None, "summary") in rec.log
    assert ("bad", "b") not in rec.log


async def test_critical_failure_blocks_only_that_units_dependents(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    async with engine.running():
        plan, view = await run_job(
            engine, "chain", [{"name": "bad", "fail": ["a"]}, {"name": "good"}]
        )
    assert view.status == JobStatus.PARTIAL
    assert view.units_by_state["failed"] == 1 and view.units_by_state["succeeded"] == 1
    assert await cell(engine, plan.job_id, "bad", "b") == CellState.BLOCKED
    assert await cell(engine, plan.job_id, "bad", "c") == CellState.BLOCKED
    assert [p for u, p in rec.log if u == "good"] == ["a", "b", "c"]
    detail = await engine.unit(plan.job_id, "bad")
    assert detail.phases["a"].error == "a refused for bad"
    assert detail.attempts["a"][0].transient is False


async def test_non_critical_failure_lets_dependents_run(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, critical={"b": False}))
    async with engine.running():
        plan, view = await run_job(engine, "chain", [{"name": "u", "fail": ["b"]}])
    assert ("u", "c") in rec.log
    assert await cell(engine, plan.job_id, "u", "b") == CellState.FAILED
    assert await cell(engine, plan.job_id, "u", "c") == CellState.SUCCEEDED
    assert view.status == JobStatus.FAILED  # its only unit failed: no unit succeeded


async def test_skipped_phase_counts_as_done(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    async with engine.running():
        plan, view = await run_job(engine, "chain", [{"name": "u", "skip": ["b"]}])
    assert view.status == JobStatus.COMPLETED
    assert await cell(engine, plan.job_id, "u", "b") == CellState.SKIPPED
    assert [p for _, p in rec.log] == ["a", "c"]
    assert plan.units[0].phases["b"].action == "skip"


async def test_failed_critical_global_phase_fails_the_job(redis, prefix):
    rec = Recorder()

    class Boom(Step):
        async def run(self, ctx):
            raise __import__("engine").PermanentError("no venue")

    spec = mixed_spec(rec)
    phases = list(spec.phases)
    phases[0] = PhaseSpec(id="setup", title="Setup", executor=Boom(rec, "setup"),
                          per_unit=False, outputs=("pool",))  # fmt: skip
    spec = WorkflowSpec(
        name="mixed", title="m", unit_model=Unit, options_model=Opts, phases=tuple(phases)
    )
    engine = make_engine(redis, prefix, spec)
    async with engine.running():
        plan, view = await run_job(engine, "mixed", units("u1", "u2"))
    assert view.status == JobStatus.FAILED
    assert "setup" in view.error
    assert rec.log == []
    assert await cell(engine, plan.job_id, "u1", "a") == CellState.BLOCKED


@pytest.mark.parametrize(
    "policy,expected", [("abort", JobStatus.FAILED), ("pause", JobStatus.PAUSED)]
)
async def test_max_failed_units(redis, prefix, policy, expected):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec), max_in_flight=1)
    bad = [{"name": f"bad{i}", "fail": ["a"]} for i in range(2)]
    async with engine.running():
        plan, view = await run_job(engine, "chain", bad + units(*[f"ok{i}" for i in range(5)]),
                                   max_failed_units=1, on_max_failed=policy)  # fmt: skip
        assert view.status == expected
        assert "max_failed_units=1" in view.error
        assert view.units_by_state["succeeded"] < 5
        if policy == "pause":  # a paused job resumes with retry and runs the rest
            await engine.retry(plan.job_id, units=["ok0"])  # failed units stay failed
            view = await engine.wait(plan.job_id, timeout=10)
            assert view.units_by_state["succeeded"] == 5


async def test_a_job_where_no_unit_succeeded_is_failed_not_partial(redis, prefix):
    """Issue 14 item 3: 0 of 2 succeeded reads FAILED (and exits as FAILED), with the
    count in its error; one success out of two stays PARTIAL (the test above)."""
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    async with engine.running():
        _, view = await run_job(
            engine, "chain", [{"name": "x", "fail": ["a"]}, {"name": "y", "fail": ["b"]}]
        )
    assert view.status == JobStatus.FAILED
    assert view.units_by_state["failed"] == 2 and view.units_by_state["succeeded"] == 0
