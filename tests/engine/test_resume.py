"""A worker killed mid-job (SIGKILL) loses nothing: another takes the job over
when its lease expires and runs only what was not finished."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine import JobStatus
from tests.engine import crash_worker

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


async def test_job_resumes_after_a_worker_is_killed(redis, redis_url, prefix):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs_before, view, started = await crash_worker.kill_mid_job_and_resume(
        redis, redis_url, prefix, env
    )
    assert sorted(runs_before) == sorted(
        [f"{u}|{p}" for u in ("u1", "u2", "u3") for p in "abc"] + ["slow|a"]
    )
    assert view.status == JobStatus.COMPLETED
    runs_after = (await redis.lrange(f"{prefix}:runs", 0, -1))[len(runs_before) :]
    assert runs_after == ["slow|b", "slow|c"]  # nothing finished before the crash ran again
    assert [s.resumed for s in started] == [False, True]
    assert started[1].fence > started[0].fence


async def test_a_clean_shutdown_mid_job_resumes_without_losing_cells(redis, prefix):
    from tests.engine.helpers import Recorder, chain_spec, make_engine, units

    rec = Recorder()
    first = make_engine(redis, prefix, chain_spec(rec, gated=True), lease_ttl=1.0)
    async with first.running():
        plan = await first.plan("chain", units("u0", "u1"))
        await first.confirm(plan.job_id, plan.digest)
        await rec.started[("u0", "a")].wait()
        rec.gate("u1", "a").set()
        await rec.started[("u1", "b")].wait()
    # the process stopped (e.g. the TUI quit) with u0/a and u1/b in flight
    assert (await first.get(plan.job_id)).status == JobStatus.RUNNING
    for key in list(rec.gates):
        rec.gate(*key).set()
    rec.gates.clear()
    second = make_engine(redis, prefix, chain_spec(rec), lease_ttl=1.0)
    async with second.running():
        view = await second.wait(plan.job_id, timeout=20)
    assert view.status == JobStatus.COMPLETED
    assert view.units_by_state["succeeded"] == 2
