"""Through the real engine, on the simulator: the HTTP tries a failing cell makes
are bounded by the engine's retry budget alone (one owner of retries), and a job's
stats count its activities and the poller's calls for them (polls per activity)."""

from __future__ import annotations

import pytest

from engine import JobStatus
from tests.workflows.rig import rig, sim_for, units
from workflows.r1ctx import polls_per_activity
from workflows.sim.config import FaultConfig, FaultRule

pytestmark = pytest.mark.anyio

ROUTE = "POST /venues/apGroups/query"


async def _tries_until_the_cell_fails(redis, prefix, route: str, rule: str) -> tuple[int, int]:
    us = units(1)
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_dpsk", us)
        before = sim.stats()["requests"].get(route, 0)
        sim.faults = FaultConfig(rules=[FaultRule(action="http_503", route=rule)])
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        tries = sim.stats()["requests"][route] - before
        detail = await r.engine.unit(plan.job_id, us[0].key)
    assert view.status in (JobStatus.FAILED, JobStatus.PARTIAL)
    assert view.units_by_state["failed"] == 1
    return tries, len(detail.attempts["ap_group"])


async def test_a_failing_lookup_costs_in_phase_tries_times_the_engines_attempts(redis, prefix):
    """A lookup answering 503 forever: safe to repeat, so the transport tries it 3 times
    per phase attempt. The first attempt creates at once (the plan is the read; the
    create answers 503 too), each of the engine's 4 retries looks first: 12 HTTP tries
    of the lookup in all (it used to be 6 x 5 = 30)."""
    tries, attempts = await _tries_until_the_cell_fails(
        redis, prefix, ROUTE, "^POST /venues/(apGroups/query|{venueId}/apGroups)$"
    )
    assert attempts == 5  # the engine's RetryPolicy.max_attempts
    assert tries == 3 * 4  # R1 RetryPolicy.in_phase_attempts x the retries


async def test_a_failing_create_is_retried_by_the_phase_alone(redis, prefix):
    """A create answering 503 forever is never re-sent blindly: one try per phase
    attempt, whose find-then-create would see a write that landed."""
    route = "POST /venues/{venueId}/apGroups"
    tries, attempts = await _tries_until_the_cell_fails(redis, prefix, route, "^" + route + "$")
    assert attempts == 5
    assert tries == 5


async def test_job_stats_count_activities_and_the_pollers_calls(redis, prefix):
    us = units(48)
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        _, view = await r.run("per_unit_dpsk", us)
        polled = sim.stats()["requests"].get("POST /activities/query", 0)
    assert view.status == JobStatus.COMPLETED
    m = view.metrics
    assert m["activities"] >= 48 * 4  # group, pool, network, activation... per unit
    assert m["activity_polls"] == polled  # every poll charged to the job that needed it
    assert m["r1_calls:activity_poller"] == m["activity_polls"]  # no 429s, no token calls
    phases = sum(v for k, v in m.items() if k.startswith("r1_calls:"))
    assert phases == m["r1_calls"]  # each call counted once: by its phase or by the poller
    ratio = polls_per_activity(m)
    assert ratio is not None and ratio < 1  # bulk polls: far fewer than one per activity
