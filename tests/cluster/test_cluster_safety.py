"""The safety behaviours on a Redis Cluster, where the global indexes (active
set, queues) live in other slots than the job: concurrent confirms and a cancel,
a crash between the steps of a confirm, stale ids in the active set, and a
worker killed mid-job (SIGKILL) whose job another worker takes over."""

from __future__ import annotations

import anyio
import pytest
from redis.exceptions import ResponseError

from engine import JobStatus
from engine.errors import WrongState
from engine.targets import target_key
from tests.engine import crash_worker
from tests.engine.helpers import Recorder, chain_spec, make_engine, units

pytestmark = pytest.mark.anyio


async def test_concurrent_confirms_start_one_run_and_a_racing_cancel_wins_cleanly(cluster, prefix):
    rec = Recorder()
    engine = make_engine(cluster, prefix, chain_spec(rec))
    store = engine.store
    raced = await engine.plan("chain", units("u1", "u2"))
    cancelled = await engine.plan("chain", units("v1"))
    outcomes: dict[str, list[str]] = {raced.job_id: [], cancelled.job_id: []}

    async def confirm(job_id: str, digest: str) -> None:
        try:
            await engine.confirm(job_id, digest)
            outcomes[job_id].append("ok")
        except WrongState:
            outcomes[job_id].append("wrong_state")

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(confirm, raced.job_id, raced.digest)
            tg.start_soon(confirm, cancelled.job_id, cancelled.digest)
        tg.start_soon(engine.cancel, cancelled.job_id)
    assert sorted(outcomes[raced.job_id]) == ["ok"] + ["wrong_state"] * 4
    assert outcomes[cancelled.job_id].count("ok") <= 1  # before the cancel, or none
    assert (await engine.get(cancelled.job_id)).status == JobStatus.CANCELLED
    queue = store.keys.queue(target_key(""))
    assert (await cluster.lrange(queue, 0, -1)).count(raced.job_id) == 1
    assert await store.active_jobs() == [raced.job_id]  # the cancelled one is gone from it

    async with engine.running():
        view = await engine.wait(raced.job_id, timeout=20)
    assert view.status == JobStatus.COMPLETED
    assert sorted(rec.log) == sorted((u, p) for u in ("u1", "u2") for p in "abc")  # one run
    assert await store.active_jobs() == []
    assert not await cluster.exists(store.keys.active)


async def test_a_confirm_cut_short_between_its_steps_is_recovered(cluster, prefix):
    rec = Recorder()
    engine = make_engine(cluster, prefix, chain_spec(rec))
    plan = await engine.plan("chain", units("u1"))
    active = engine.store.keys.active
    await cluster.set(active, "not a set")  # the active set is written before the script
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await engine.confirm(plan.job_id, plan.digest)
    await cluster.delete(active)
    assert (await engine.get(plan.job_id)).status == JobStatus.AWAITING_CONFIRMATION

    queue = engine.store.keys.queue(target_key(""))
    await cluster.set(queue, "not a list")  # the push after the confirm script fails
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await engine.confirm(plan.job_id, plan.digest)
    await cluster.delete(queue)
    assert (await engine.get(plan.job_id)).status == JobStatus.QUEUED  # confirmed, not queued
    assert await engine.store.active_jobs() == [plan.job_id]  # where recovery looks

    async with engine.running():  # a worker's recovery: active, no lease
        view = await engine.wait(plan.job_id, timeout=20)
    assert view.status == JobStatus.COMPLETED
    assert rec.log == [("u1", p) for p in "abc"]


async def test_recovery_prunes_active_ids_of_jobs_that_are_not_queued_or_running(cluster, prefix):
    rec = Recorder()
    engine = make_engine(cluster, prefix, chain_spec(rec), finished_ttl=3600)
    store = engine.store
    awaiting = await engine.plan("chain", units("a1"))
    async with engine.running():
        done = await engine.plan("chain", units("d1"))
        await engine.confirm(done.job_id, done.digest)
        assert (await engine.wait(done.job_id, timeout=20)).status == JobStatus.COMPLETED
    active = store.keys.active
    await cluster.sadd(active, awaiting.job_id)  # a confirm died before its script
    # its process died between the final status and `finish`: active, never expiring
    await cluster.sadd(active, done.job_id)
    for key in store.job(done.job_id).all():
        await cluster.persist(key)
    await cluster.sadd(active, "gone")  # a job whose keys expired
    assert await cluster.scard(active) == 3

    assert await store.active_jobs() == []
    assert not await cluster.exists(active)
    assert 0 < await cluster.ttl(store.job(done.job_id).meta) <= 3600
    assert (await engine.get(awaiting.job_id)).status == JobStatus.AWAITING_CONFIRMATION
    await engine.confirm(awaiting.job_id, awaiting.digest)  # still confirms and runs
    async with engine.running():
        view = await engine.wait(awaiting.job_id, timeout=20)
    assert view.status == JobStatus.COMPLETED


async def test_a_killed_worker_s_job_is_resumed_by_another_on_a_cluster(
    cluster, cluster_url, cluster_env, prefix
):
    runs_before, view, started = await crash_worker.kill_mid_job_and_resume(
        cluster, cluster_url, prefix, cluster_env
    )
    assert view.status == JobStatus.COMPLETED
    runs_after = (await cluster.lrange(f"{prefix}:runs", 0, -1))[len(runs_before) :]
    assert runs_after == ["slow|b", "slow|c"]  # nothing finished before the crash ran again
    assert [s.resumed for s in started] == [False, True]
    assert started[1].fence > started[0].fence
