"""An operator's pause and resume (issue 14, run controls): in-flight work lands,
nothing new starts, the job rests PAUSED; resume continues where it stopped and
every cell runs exactly once. The request is persisted like a cancel, so the
worker that owns the job honours it even when another process asked."""

from __future__ import annotations

import anyio
import pytest

from engine.errors import WrongState
from engine.models import CellState, JobStatus
from tests.engine.helpers import Recorder, chain_spec, make_engine, units

pytestmark = pytest.mark.anyio


async def pause_seen(engine, job_id: str) -> None:
    """The owning worker logs when it has read the request (it polls for it)."""
    with anyio.fail_after(30):
        while not any(
            getattr(r.event, "message", "").startswith("pausing")
            for r in await engine.events(job_id)
        ):
            await anyio.sleep(0.01)


async def status_is(engine, job_id: str, status: JobStatus) -> None:
    with anyio.fail_after(30):
        while (await engine.get(job_id)).status != status:
            await anyio.sleep(0.01)


async def test_pause_lets_in_flight_land_starts_nothing_new_and_resume_finishes(redis, prefix):
    rec = Recorder()
    spec = chain_spec(rec, gated=True)
    runner = make_engine(redis, prefix, spec, max_in_flight=1)  # one cell at a time
    operator = make_engine(redis, prefix, spec)  # another face on the same Redis
    async with runner.running(), operator.running(worker=False):
        plan = await runner.plan("chain", units("u1", "u2"))
        await runner.confirm(plan.job_id, plan.digest)
        first = next(iter(plan.units)).unit
        with anyio.fail_after(30):
            await rec.started[(first, "a")].wait()

        view = await operator.pause(plan.job_id)
        assert view.status == JobStatus.RUNNING and view.pause_requested
        await pause_seen(operator, plan.job_id)
        rec.gate(first, "a").set()  # the in-flight cell lands
        await status_is(operator, plan.job_id, JobStatus.PAUSED)
        assert rec.log == [(first, "a")]  # nothing new started
        cells = await runner.store.cells(plan.job_id)
        assert sum(c.state == CellState.SUCCEEDED for c in cells.values()) == 1
        assert not (await operator.get(plan.job_id)).pause_requested

        for u in ("u1", "u2"):
            for p in ("a", "b", "c"):
                rec.gate(u, p).set()
        await operator.resume(plan.job_id)
        await status_is(operator, plan.job_id, JobStatus.COMPLETED)
    assert sorted(rec.log) == sorted((u, p) for u in ("u1", "u2") for p in ("a", "b", "c"))


async def test_a_queued_job_pauses_at_once_and_a_finished_one_refuses(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    async with engine.running(worker=False):  # no worker: the job stays QUEUED
        plan = await engine.plan("chain", units("u1"))
        await engine.confirm(plan.job_id, plan.digest)
        assert (await engine.pause(plan.job_id)).status == JobStatus.PAUSED
        with pytest.raises(WrongState):
            await engine.pause(plan.job_id)  # already paused
        await engine.cancel(plan.job_id)
        with pytest.raises(WrongState):
            await engine.pause(plan.job_id)  # finished
        with pytest.raises(WrongState):
            await engine.resume(plan.job_id)  # only a PAUSED job resumes
    assert rec.log == []


async def test_resume_keeps_failed_cells_failed(redis, prefix):
    """Resume continues; it is not a retry: a unit that failed before the pause stays
    failed (and the job ends PARTIAL), so nothing runs twice behind the operator."""
    rec = Recorder()
    spec = chain_spec(rec, gated=True)
    engine = make_engine(redis, prefix, spec, max_in_flight=1)
    async with engine.running():
        plan = await engine.plan("chain", [{"name": "bad", "fail": ["a"]}, {"name": "ok"}])
        await engine.confirm(plan.job_id, plan.digest)
        order = [u.unit for u in plan.units]
        with anyio.fail_after(30):
            await rec.started[(order[0], "a")].wait()
        await engine.pause(plan.job_id)
        await pause_seen(engine, plan.job_id)
        rec.gate(order[0], "a").set()
        await status_is(engine, plan.job_id, JobStatus.PAUSED)
        for p in ("a", "b", "c"):
            rec.gate(order[1], p).set()
        await engine.resume(plan.job_id)
        await status_is(engine, plan.job_id, JobStatus.PARTIAL)
    assert rec.attempts[("bad", "a")] == 1
