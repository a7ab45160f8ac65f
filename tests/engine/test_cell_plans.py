"""A run holds each cell's confirmed plan compactly and hands it back intact."""

from __future__ import annotations

import gc
import tracemalloc

from engine.cell_plans import CellPlans
from engine.models import PhasePlan, Plan, PlanSummary, UnitPlan


def w_plan(n: int) -> Plan:
    def unit(i: int) -> UnitPlan:
        return UnitPlan(
            unit=f"u{i}",
            phases={
                "ap_group": PhasePlan(action="create", resource="ap_group", name=f"{i}-APG",
                                      calls=1, waits=1, data={"serials": [f"s{i}a", f"s{i}b"]}),
                "identity_group": PhasePlan(action="reuse", resource="identity_group",
                                            name=f"{i}-IDG", calls=0, waits=0,
                                            data={"id": f"idg-{i}"}),
                "network": PhasePlan(action="create", calls=2, waits=2, detail="DPSK, VLAN 101"),
                "passphrases": PhasePlan(action="create", calls=1),  # waits not said
            },
        )  # fmt: skip

    return Plan(
        job_id="j", workflow="w", digest="d", created_at=0.0, expires_at=1.0,
        summary=PlanSummary(units=n),
        global_phases={"venue": PhasePlan(action="reuse", calls=1, waits=0, data={"id": "v"})},
        units=[unit(i) for i in range(n)],
    )  # fmt: skip


def test_each_cell_gets_back_exactly_its_plan_and_waits():
    plan = w_plan(3)
    plans = CellPlans.of_json(plan.model_dump_json(), resumed=True)
    assert plans.resumed
    for row, u in enumerate(plan.units):
        for pid, p in u.phases.items():
            assert plans.get(row, pid) == p
            assert plans.waits(row, pid) == p.waits
    assert plans.get(None, "venue") == plan.global_phases["venue"]
    assert plans.waits(None, "venue") == 0
    assert plans.get(0, "lan_ports") is None and plans.waits(0, "lan_ports") is None
    assert plans.get(3, "network") is None and plans.waits(3, "network") is None
    assert plans.waits(1, "passphrases") is None  # not said stays not said
    built = CellPlans([u.phases for u in plan.units], plan.global_phases)
    assert [built.get(r, "network") for r in range(3)] == [u.phases["network"] for u in plan.units]
    assert CellPlans.of_json(None).get(0, "network") is None


def test_a_phase_missing_from_some_units_keeps_every_rows_waits_in_place():
    a = {"x": PhasePlan(action="create", waits=2)}
    b = {"y": PhasePlan(action="create", waits=3)}
    plans = CellPlans([a, b, a])
    assert [plans.waits(r, "x") for r in range(3)] == [2, None, 2]
    assert [plans.waits(r, "y") for r in range(3)] == [None, 3, None]


def test_the_run_keeps_a_kilobyte_or_two_per_unit_not_a_model_per_cell():
    """Parsed models of every cell cost about 12.5 KB per per_unit_dpsk unit (125 MB
    for 10,000 units, measured): a 100,000-unit job would hold over a gigabyte."""
    raw = w_plan(2000).model_dump_json()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        plans = CellPlans.of_json(raw)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert plans.get(1999, "ap_group") is not None
    assert kept / 2000 < 1500, f"{kept / 2000:.0f} bytes per unit"
