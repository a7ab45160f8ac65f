"""Critical-path-aware scheduling: with the in-flight limit binding, a ready cell with
more work behind it goes first (weighted by the plan's `waits`), leaf work fills what
is left, and a global cell still goes before everything."""

from __future__ import annotations

import pytest

from engine.cell_plans import CellPlans
from engine.models import PhasePlan
from tests.engine.test_runner_mutants import Harness, Script, phase, spec_of

pytestmark = pytest.mark.anyio

UNITS = ("u0", "u1", "u2")


@pytest.fixture
def h(redis, prefix) -> Harness:
    return Harness(redis, prefix)


async def test_with_one_slot_every_units_chain_runs_before_any_leaf(h):
    """g (global) -> c1 -> c2 -> c3, and c1 -> leaf: every unit's chain cells run before
    any leaf cell (units further along first ran u0's leaf before u1 started)."""
    log: list = []
    phases = spec_of(
        phase("g", Script(log=log), per_unit=False),
        phase("c1", Script(log=log), deps=("g",)),
        phase("leaf", Script(log=log), deps=("c1",)),
        phase("c2", Script(log=log), deps=("c1",)),
        phase("c3", Script(log=log), deps=("c2",)),
    )
    await h.run(h.brain(phases, UNITS, max_in_flight=1))
    assert log[0] == (None, "g")
    order = [p for _u, p in log[1:]]
    assert order == ["c1"] * 3 + ["c2"] * 3 + ["c3"] * 3 + ["leaf"] * 3
    assert [u for u, p in log if p == "c1"] == list(UNITS)  # earlier unit first


async def test_the_plans_waits_weigh_the_path(h):
    """Two leaves after a: without a plan they tie (phase order, then unit); the plan
    says `slow` waits for 3 activities one after another and `quick` for 1: every
    unit's `slow` goes first."""
    log: list = []
    phases = spec_of(
        phase("a", Script(log=log)),
        phase("quick", Script(log=log), deps=("a",)),
        phase("slow", Script(log=log), deps=("a",)),
    )
    units = [{"a": PhasePlan(waits=1), "quick": PhasePlan(waits=1), "slow": PhasePlan(waits=3)}]
    plans = CellPlans(units * 2)
    await h.run(h.brain(phases, ("u0", "u1"), max_in_flight=1, plans=plans))
    assert [p for _u, p in log] == ["a", "a", "slow", "slow", "quick", "quick"]
