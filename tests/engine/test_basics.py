"""A job runs end to end on real Redis and anyone can read its truth."""

from __future__ import annotations

import pytest

from engine import Engine, EngineConfig, JobStatus, Registry
from tests.engine.helpers import Recorder, chain_spec, make_engine, run_job, units

pytestmark = pytest.mark.anyio


async def test_chain_completes_and_state_is_in_redis(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    async with engine.running():
        plan, view = await run_job(engine, "chain", units("u1", "u2", "u3"))
    assert view.status == JobStatus.COMPLETED
    assert view.units_by_state["succeeded"] == 3
    assert view.transitions_done == view.transitions_total == 9
    assert sorted(rec.log) == sorted((u, p) for u in ("u1", "u2", "u3") for p in "abc")
    # a second engine on the same Redis sees exactly the same job, units and events
    other = Engine(redis, Registry([chain_spec(Recorder())]), EngineConfig(prefix=prefix))
    assert (await other.get(plan.job_id)).model_dump(exclude={"elapsed", "throughput"}) == (
        await engine.get(plan.job_id)
    ).model_dump(exclude={"elapsed", "throughput"})
    assert await other.units(plan.job_id) == await engine.units(plan.job_id)
    assert await other.events(plan.job_id) == await engine.events(plan.job_id)
    jobs = await other.list_jobs()
    assert [j.id for j in jobs] == [plan.job_id]
    assert jobs[0].units_done == 3


async def test_events_replay_from_cursor(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    async with engine.running():
        plan, _ = await run_job(engine, "chain", units("u1", "u2"))
    events = await engine.events(plan.job_id)
    types = [e.event.type for e in events]
    assert types[0] == "job_planned" and types[1] == "job_confirmed"
    assert types[-1] == "job_finished"
    assert types.count("phase_succeeded") == 6
    cursors = [e.cursor for e in events]
    assert cursors == sorted(cursors, key=lambda c: tuple(map(int, c.split("-"))))
    middle = len(events) // 2
    after = await engine.events(plan.job_id, after=events[middle].cursor)
    assert after == events[middle + 1 :]
    # follow() replays then tails: it yields the same records in order
    seen = []
    async for record in engine.follow(plan.job_id, after=events[middle].cursor):
        seen.append(record)
        if record.event.type == "job_finished":
            break
    assert seen == events[middle + 1 :]


async def test_describe_graph(redis, prefix):
    engine = make_engine(redis, prefix, chain_spec(Recorder()))
    d = engine.describe("chain")
    assert [n.id for n in d.nodes] == ["a", "b", "c"]
    assert d.levels == [["a"], ["b"], ["c"]]
    assert d.edges == [("a", "b"), ("b", "c")]
    assert d.unit_schema["properties"]["name"]["type"] == "string"


async def test_finished_jobs_expire_after_the_retention_period(redis, prefix):
    engine = make_engine(redis, prefix, chain_spec(Recorder()), finished_ttl=3600)
    async with engine.running():
        plan, view = await run_job(engine, "chain", units("u1"))
    assert view.status == JobStatus.COMPLETED
    keys = [k async for k in redis.scan_iter(match=f"{prefix}:{{job:{plan.job_id}}}:*")]
    assert keys
    for key in keys:
        assert 0 < await redis.ttl(key) <= 3600
    assert await redis.smembers(f"{prefix}:active") == set()


async def test_each_executor_sees_its_cells_confirmed_plan(redis, prefix):
    """Phase 0's decision reaches the run: a create knows it is a create (no read
    first), a reuse has the id the plan found; global phases see theirs too."""
    from engine import PhaseSpec, WorkflowSpec
    from engine.models import PhasePlan
    from tests.engine.helpers import Unit

    seen: dict[tuple[str | None, str], tuple[str, dict]] = {}

    class Planned:
        async def plan(self, ctx):
            if ctx.unit is None:
                return PhasePlan(action="run", detail="global")
            if ctx.unit.name == "old":
                return PhasePlan(action="reuse", resource="thing", data={"id": "id-old"})
            return PhasePlan(action="create", resource="thing", calls=1)

        async def run(self, ctx):
            assert ctx.plan is not None
            seen[(ctx.unit_key, ctx.phase.id)] = (ctx.plan.action, dict(ctx.plan.data))
            return None

    spec = WorkflowSpec(
        name="planned", title="planned", unit_model=Unit,
        phases=(
            PhaseSpec(id="g", title="G", executor=Planned(), per_unit=False),
            PhaseSpec(id="a", title="A", executor=Planned(), depends_on=("g",)),
        ),
    )  # fmt: skip
    engine = make_engine(redis, prefix, spec)
    async with engine.running():
        _plan, view = await run_job(engine, "planned", units("new", "old"))
    assert view.status == JobStatus.COMPLETED
    assert seen == {
        (None, "g"): ("run", {}),
        ("new", "a"): ("create", {}),
        ("old", "a"): ("reuse", {"id": "id-old"}),
    }
