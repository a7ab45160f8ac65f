"""The runtime gives the engine the target's timing (a simulator's profile and time
scale, or R1's documented limits with assumed latencies), and a real plan of
`per_unit_dpsk` against the `realistic` simulator is estimated from it, shown as a
range where the CLI prints the estimate."""

from __future__ import annotations

import json

import pytest

from app.commands.plan import plan_text
from app.remote_text import plan_text as remote_plan_text
from app.runtime import (
    R1_ACTIVITY_SECONDS,
    RuntimeSettings,
    _sim_latency,
    open_runtime,
    target_timing,
)
from engine import EngineConfig
from engine.codec import dump_revealed
from workflows.inputs.samples import sample_units
from workflows.r1 import R1Config

pytestmark = pytest.mark.anyio


async def test_a_realistic_simulator_plan_is_estimated_from_its_profile(redis_url, redis, prefix):
    settings = RuntimeSettings(
        redis_url=redis_url, sim_profile="realistic", sim_time_scale=0.1, worker=False,
        sim_extra_serials=[s for u in sample_units(6) for s in u.ap_serials],
        engine=EngineConfig(prefix=prefix),
    )  # fmt: skip
    async with open_runtime(settings) as rt:
        cfg = rt.engine.config
        assert cfg.time_scale == 0.1
        timing = cfg.target_timing
        assert timing is not None
        assert timing.activity_seconds == (30.0, 90.0) and timing.call_seconds == (0.15, 0.6)
        assert (timing.rate_per_second, timing.burst) == (100.0, 200.0)
        units = [json.loads(dump_revealed(u)) for u in sample_units(6)]
        plan = await rt.engine.plan(
            "per_unit_dpsk", units, {"lan_ports": {"*": [{"port_id": "2"}]}}
        )
    s = plan.summary
    assert s.estimated_bound == "critical path"
    # at least identity group -> pool -> bind -> activate, 30 R1-s each at the least,
    # at most every phase of the unit one after another at 90 (+5 s of polling) each
    low, high = s.estimated_range
    assert 4 * 30 * 0.1 <= low <= s.estimated_seconds <= high <= 12 * 95 * 0.1
    assert f"about {s.estimate_text()[6:]}" in plan_text(plan)
    doc = {**plan.model_dump(mode="json"), "headline": s.headline(), "conflicts": []}
    assert " to " in remote_plan_text(doc)


def test_a_real_tenant_is_estimated_from_the_documented_limits_and_assumed_latencies():
    cfg = R1Config(client_id="c", client_secret="s", tenant_id="t")
    timing = target_timing(cfg, (0.15, 0.6), R1_ACTIVITY_SECONDS, "R1")
    assert (timing.rate_per_second, timing.burst) == (100.0, 200.0)
    assert timing.activity_seconds == (30.0, 90.0) and timing.poll_seconds == (1.0, 5.0)


def test_a_sim_server_says_its_latencies_or_its_profile_does():
    assert _sim_latency({"profile": "realistic"}) == ((0.15, 0.6), (30.0, 90.0))
    said = {"profile": "realistic", "latency": {"callLatency": [0, 1], "activityDuration": [2, 3]}}
    assert _sim_latency(said) == ((0.0, 1.0), (2.0, 3.0))
