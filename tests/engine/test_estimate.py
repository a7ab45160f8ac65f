"""The plan's duration estimate from the target's timing (issue 14 item 7): a W-like
plan on the `realistic` profile lands where the hand computation says; the rate
limit makes it grow with the units; otherwise the slowest unit's chain decides."""

from __future__ import annotations

import math
from typing import Any

import pytest

from engine.config import EngineConfig
from engine.estimate import TargetTiming, estimate, z_of
from engine.models import PhasePlan, PlanSummary, UnitPlan
from engine.planner import summarize
from engine.spec import PhaseSpec, WorkflowSpec


class _Noop:
    async def run(self, ctx: Any) -> None:
        return None


def _phase(pid: str, deps: tuple[str, ...] = (), per_unit: bool = True) -> PhaseSpec:
    return PhaseSpec(id=pid, title=pid, executor=_Noop(), depends_on=deps, per_unit=per_unit)


W_PHASES = (
    _phase("venue", per_unit=False),
    _phase("ap_group", ("venue",)),
    _phase("identity_group", ("venue",)),
    _phase("dpsk_pool", ("identity_group",)),
    _phase("network", ("venue",)),
    _phase("bind_pool", ("network", "dpsk_pool")),
    _phase("passphrases", ("dpsk_pool",)),
    _phase("activate", ("bind_pool", "ap_group")),
    _phase("lan_ports", ("venue",)),
)
"""Issue 12's target shape: idg -> pool -> bind -> activate is the critical chain."""
W_SPEC = WorkflowSpec(name="w", title="W", phases=W_PHASES, seconds_per_call=0.5)

REALISTIC = TargetTiming(
    activity_seconds=(30.0, 90.0), call_seconds=(0.15, 0.6), rate_per_second=100.0,
    burst=200.0, poll_seconds=(1.0, 5.0), source="simulator profile realistic",
)  # fmt: skip


def w_unit(i: int, activate_waits: int = 1) -> UnitPlan:
    def p(calls: int, waits: int) -> PhasePlan:
        return PhasePlan(action="create", calls=calls, waits=waits)

    return UnitPlan(
        unit=f"u{i}",
        phases={
            "ap_group": p(1, 1), "identity_group": p(1, 1), "dpsk_pool": p(1, 1),
            "network": p(2, 2), "bind_pool": p(1, 1), "passphrases": p(1, 1),
            "activate": p(1, activate_waits), "lan_ports": p(5, 2),
        },
    )  # fmt: skip


GLOBAL = {"venue": PhasePlan(action="reuse")}
CALLS_PER_UNIT = 13


def plan_summary(n: int, timing: TargetTiming | None, scale: float = 1.0, **kw: Any) -> PlanSummary:
    units = [w_unit(i, **kw) for i in range(n)]
    return summarize(
        W_SPEC, GLOBAL, units, 64, None, phases=W_PHASES, timing=timing, time_scale=scale
    )


def test_a_w_like_plan_on_the_realistic_profile_lands_where_the_hand_computation_says():
    s = plan_summary(500, REALISTIC, scale=0.1)
    assert s.estimated_calls == 500 * CALLS_PER_UNIT
    # by hand: the chain is 4 activities (network's 2 + bind + activate ties with
    # idg + pool + bind + activate) and 4 calls; U(30, 90) has mean 60, sd 60/sqrt(12);
    # the slowest of 500 chains: 4 * (60 + 1.5 poll lag) + 2 * 17.32 * 3.02 + 4 * 0.375
    by_hand = 4 * 61.5 + 2 * (60 / math.sqrt(12)) * 3.0235 + 4 * 0.375 + 0.375
    assert s.estimated_bound == "critical path"
    assert s.estimated_seconds == pytest.approx(by_hand * 0.1, abs=0.2)
    low, high = s.estimated_range
    assert 4 * 60 * 0.1 < low < s.estimated_seconds < high <= (4 * 95 + 5 * 0.6) * 0.1
    # the old figure, ceil(calls / in-flight) x seconds per call, was 8x lower
    assert s.estimated_seconds > 5 * math.ceil(500 * CALLS_PER_UNIT / 64) * 0.5 * 0.1


def test_the_estimate_grows_with_the_units_when_the_rate_limit_binds():
    slow = REALISTIC.model_copy(update={"rate_per_second": 5.0, "burst": 100.0})
    small, big = plan_summary(500, slow), plan_summary(1000, slow)
    assert small.estimated_bound == big.estimated_bound == "rate limit"
    # 500 more units are 6,500 more calls at 5 per second
    assert big.estimated_seconds - small.estimated_seconds == pytest.approx(6500 / 5, abs=0.2)
    assert small.estimated_seconds == pytest.approx((6500 - 100) / 5 + 60 + 0.375, abs=0.2)


def test_the_slowest_units_chain_decides_when_the_rate_limit_does_not_bind():
    small, big = plan_summary(500, REALISTIC), plan_summary(1000, REALISTIC)
    assert small.estimated_bound == big.estimated_bound == "critical path"
    # twice the units: only the expected maximum moves (z(1000) - z(500) sigmas)
    moved = 2 * (60 / math.sqrt(12)) * (z_of(1000) - z_of(500))
    assert big.estimated_seconds - small.estimated_seconds == pytest.approx(moved, abs=0.2)
    # one more activity on every unit's chain: about one more activity's worth
    longer = plan_summary(500, REALISTIC, activate_waits=2)
    assert 45 < longer.estimated_seconds - small.estimated_seconds < 95


def test_a_phase_that_says_no_waits_counts_one_activity_when_it_calls():
    plans = {
        "identity_group": PhasePlan(action="create", calls=1),
        "dpsk_pool": PhasePlan(action="create", calls=2),
    }
    units = [UnitPlan(unit="u", phases=plans)]
    t = TargetTiming(activity_seconds=(10.0, 10.0))
    assert estimate(W_PHASES, GLOBAL, units, calls=3, max_in_flight=8, timing=t).seconds == 20.0


def test_a_phase_that_only_reads_adds_no_activity():
    """The venue phase reads (1 call) and waits for nothing: `waits=0` is said, not
    missing, so the chain is not one activity longer (the W500 estimate was 25% high)."""
    plans = {"identity_group": PhasePlan(action="create", calls=1, waits=1)}
    units = [UnitPlan(unit="u", phases=plans)]
    venue = {"venue": PhasePlan(action="reuse", calls=1, waits=0)}
    t = TargetTiming(activity_seconds=(10.0, 10.0))
    assert estimate(W_PHASES, venue, units, calls=2, max_in_flight=8, timing=t).seconds == 10.0


def test_without_a_target_timing_it_is_the_workflows_seconds_per_call():
    # 6,500 calls 64 at a time, 0.5 s each, beats one unit's 13 calls in a row
    s = plan_summary(500, None)
    assert s.estimated_bound == "in-flight limit"
    assert s.estimated_seconds == pytest.approx(6500 / 64 * 0.5 + 0.5, abs=0.1)


def test_the_engine_config_carries_the_timing_and_the_time_scale():
    cfg = EngineConfig(time_scale=0.1, target_timing=REALISTIC)
    assert cfg.target_seconds(600.0) == pytest.approx(60.0)
    assert EngineConfig.model_validate_json(cfg.model_dump_json()).target_timing == REALISTIC


def test_every_face_prints_the_range_and_what_binds():
    s = PlanSummary(
        units=1, estimated_seconds=353.0, estimated_range=(313.0, 383.0),
        estimated_bound="critical path",
    )  # fmt: skip
    assert s.estimate_text() == "about 5m53s (5m13s to 6m23s, critical path)"
    assert PlanSummary(units=1, estimated_seconds=4.25).estimate_text() == "about 4.2s"
