"""Property: whatever the DAG, the mix of global and per-unit phases, the
failures and the skips, a job always reaches a terminal state, and no cell
ever runs before its dependencies are done."""

from __future__ import annotations

import itertools

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from redis.asyncio import Redis

from engine import JobStatus, PermanentError, PhaseSpec, TransientError, WorkflowSpec
from engine.models import CellState
from tests.engine.helpers import Unit, make_engine

_ids = itertools.count()


class GOpts(BaseModel):
    global_fail: list[str] = []
    global_skip: list[str] = []


class Exec:
    def __init__(self, pid: str, log: list[tuple[str | None, str]], tries: dict) -> None:
        self.pid = pid
        self.log = log
        self.tries = tries

    async def run(self, ctx):
        key = (ctx.unit_key, self.pid)
        self.tries[key] = self.tries.get(key, 0) + 1
        await anyio.sleep(0)
        if ctx.unit is None:
            if self.pid in ctx.options.global_fail:
                raise PermanentError("global boom")
        else:
            if self.pid in ctx.unit.fail:
                raise PermanentError("boom")
            if self.tries[key] <= ctx.unit.flaky.get(self.pid, 0):
                raise TransientError("flaky")
        self.log.append(key)
        return None


def skip_rule(pid: str):
    def rule(opts: GOpts, unit: Unit | None) -> bool:
        return pid in opts.global_skip if unit is None else pid in unit.skip

    return rule


@st.composite
def scenarios(draw):
    n_phases = draw(st.integers(1, 6))
    phases = []
    for i in range(n_phases):
        deps = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=3)) if i else []
        phases.append(
            {
                "id": f"p{i}",
                "deps": [f"p{d}" for d in deps],
                "per_unit": draw(st.booleans()),
                "critical": draw(st.booleans()),
            }
        )
    ids = [p["id"] for p in phases]
    per_unit_ids = [p["id"] for p in phases if p["per_unit"]]
    global_ids = [p["id"] for p in phases if not p["per_unit"]]
    n_units = draw(st.integers(0, 5))
    units = []
    for u in range(n_units):
        units.append(
            {
                "name": f"u{u}",
                "fail": draw(st.lists(st.sampled_from(per_unit_ids), unique=True))
                if per_unit_ids
                else [],
                "skip": draw(st.lists(st.sampled_from(per_unit_ids), unique=True))
                if per_unit_ids
                else [],
                "flaky": draw(st.dictionaries(st.sampled_from(ids), st.integers(1, 6), max_size=2)),
            }
        )
    opts = {
        "global_fail": draw(st.lists(st.sampled_from(global_ids), unique=True))
        if global_ids
        else [],
        "global_skip": draw(st.lists(st.sampled_from(global_ids), unique=True))
        if global_ids
        else [],
    }
    limit = draw(st.integers(1, 4))
    return phases, units, opts, limit


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenarios())
def test_every_job_terminates(redis_url, scenario):
    phases, units, opts, limit = scenario
    anyio.run(_check, redis_url, phases, units, opts, limit)


async def _check(redis_url, phases, units, opts, limit) -> None:
    prefix = f"prop{next(_ids)}"
    log: list[tuple[str | None, str]] = []
    tries: dict = {}
    spec = WorkflowSpec(
        name="prop",
        title="prop",
        unit_model=Unit,
        options_model=GOpts,
        phases=tuple(
            PhaseSpec(
                id=p["id"], title=p["id"], executor=Exec(p["id"], log, tries),
                depends_on=tuple(p["deps"]), per_unit=p["per_unit"], critical=p["critical"],
                skip_if=skip_rule(p["id"]),
            )
            for p in phases
        ),
    )  # fmt: skip
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        engine = make_engine(redis, prefix, spec, max_in_flight=limit)
        async with engine.running():
            plan = await engine.plan("prop", units, opts)
            await engine.confirm(plan.job_id, plan.digest)
            with anyio.fail_after(20):
                view = await engine.wait(plan.job_id, timeout=20)
        assert view.status in (JobStatus.COMPLETED, JobStatus.PARTIAL, JobStatus.FAILED), view
        assert view.transitions_done == view.transitions_total
        page = await engine.units(plan.job_id, limit=100)
        cells = {(u.unit, pid): rec.state for u in page.units for pid, rec in u.phases.items()}
        assert all(s.terminal for s in cells.values())
        spec_by_id = {p["id"]: p for p in phases}
        # global cells, from the per-phase counts
        global_state = {}
        for p in view.phases:
            if not p.per_unit:
                [state] = [s for s, n in p.counts.items() if n]
                global_state[p.id] = CellState(state)
        # order: a cell ran only after each dependency finished (ran or skipped or tolerated)
        position = {key: i for i, key in enumerate(log)}
        for (unit, pid), i in position.items():
            for d in spec_by_id[pid]["deps"]:
                dep_unit = unit if spec_by_id[d]["per_unit"] else None
                if spec_by_id[pid]["per_unit"] or not spec_by_id[d]["per_unit"]:
                    if (dep_unit, d) in position:
                        assert position[(dep_unit, d)] < i
                else:  # global after per-unit: every unit's cell ran first (if it ran)
                    for u in units:
                        if (u["name"], d) in position:
                            assert position[(u["name"], d)] < i
        expected_cells, expected_global, expected_status = oracle(phases, units, opts)
        assert view.status == expected_status
        if expected_status != JobStatus.FAILED:  # a failed job stops: the rest is timing
            assert cells == expected_cells
            assert global_state == expected_global
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


def oracle(phases, units, opts):
    """The expected outcome, computed independently of the engine."""
    S = CellState
    by_id = {p["id"]: p for p in phases}

    def bad(pid: str, state: CellState) -> bool:
        return state == S.BLOCKED or (state == S.FAILED and by_id[pid]["critical"])

    glob: dict[str, CellState] = {}
    for p in phases:  # phases are declared in a topological order
        if p["per_unit"]:
            continue
        if any(not by_id[d]["per_unit"] and bad(d, glob[d]) for d in p["deps"]):
            glob[p["id"]] = S.BLOCKED
        elif p["id"] in opts["global_skip"]:
            glob[p["id"]] = S.SKIPPED
        elif p["id"] in opts["global_fail"]:
            glob[p["id"]] = S.FAILED
        else:
            glob[p["id"]] = S.SUCCEEDED
    if any(bad(pid, st) for pid, st in glob.items()):
        return None, None, JobStatus.FAILED
    cells: dict[tuple[str, str], CellState] = {}
    for u in units:
        for p in phases:
            if not p["per_unit"]:
                continue
            pid = p["id"]
            deps_bad = any(
                bad(d, cells[(u["name"], d)] if by_id[d]["per_unit"] else glob[d])
                for d in p["deps"]
            )
            if deps_bad:
                state = S.BLOCKED
            elif pid in u["skip"]:
                state = S.SKIPPED
            elif pid in u["fail"] or u["flaky"].get(pid, 0) >= 5:
                state = S.FAILED
            else:
                state = S.SUCCEEDED
            cells[(u["name"], pid)] = state
    if any(st in (S.FAILED, S.BLOCKED) for st in [*cells.values(), *glob.values()]):
        return cells, glob, JobStatus.PARTIAL
    return cells, glob, JobStatus.COMPLETED
