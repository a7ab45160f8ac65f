"""A worker killed mid-job (SIGKILL) loses nothing: another takes the job over
when its lease expires and runs only what was not finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from engine import JobStatus
from tests.engine import crash_worker

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


async def test_job_resumes_after_a_worker_is_killed(redis, redis_url, prefix):
    env = {**os.environ, "CRASH_BLOCK": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.engine.crash_worker", redis_url, prefix], env=env, cwd=ROOT
    )
    try:
        face = crash_worker.engine(redis, prefix, lease_ttl=1.0)  # no worker: plans and reads
        names = ["u1", "u2", "slow", "u3"]
        plan = await face.plan("crashy", [{"name": n} for n in names])
        await face.confirm(plan.job_id, plan.digest)
        with anyio.fail_after(30):
            while not await redis.llen(f"{prefix}:blocked"):
                await anyio.sleep(0.02)
            while (await face.get(plan.job_id)).units_by_state["succeeded"] < 3:
                await anyio.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (await face.get(plan.job_id)).status == JobStatus.RUNNING  # the dead worker's last word
    runs_before = await redis.lrange(f"{prefix}:runs", 0, -1)
    assert sorted(runs_before) == sorted(
        [f"{u}|{p}" for u in ("u1", "u2", "u3") for p in "abc"] + ["slow|a"]
    )

    successor = crash_worker.engine(redis, prefix, lease_ttl=1.0)
    async with successor.running():
        view = await successor.wait(plan.job_id, timeout=30)
    assert view.status == JobStatus.COMPLETED
    runs_after = (await redis.lrange(f"{prefix}:runs", 0, -1))[len(runs_before) :]
    assert runs_after == ["slow|b", "slow|c"]  # nothing finished before the crash ran again
    started = [
        e.event for e in await successor.events(plan.job_id) if e.event.type == "job_started"
    ]
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
