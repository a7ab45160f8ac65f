"""End to end on a real three-node Redis Cluster: plan, confirm, run and clean up
a per_unit_dpsk job against the simulator; every key of a job in one hash slot,
no command ever refused for crossing slots; the runtime detects the cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster

from app.runtime import RuntimeSettings, open_runtime
from engine import EngineConfig, JobStatus
from engine.event_stream import max_block
from engine.keys import JobKeys
from tests.cluster.conftest import RecordingCluster
from tests.workflows.checks import check_unit, shape
from tests.workflows.rig import rig, sim_for, units

pytestmark = pytest.mark.anyio


async def job_slots(cluster: RecordingCluster, prefix: str, job_id: str) -> dict[str, int]:
    """CLUSTER KEYSLOT of every key the job has on the cluster (every primary scanned)."""
    found = [k async for k in cluster.scan_iter(match=f"{prefix}:{{job:{job_id}}}:*")]
    return {key: await cluster.cluster_keyslot(key) for key in found}


async def test_a_dpsk_job_runs_and_is_cleaned_up_on_a_cluster(cluster, prefix):
    us = units(6, dpsk=True)
    sim = sim_for(us)
    before = shape(sim)
    async with rig(cluster, prefix, sim) as r:
        plan, view = await r.run("per_unit_dpsk", us)
        assert view.status == JobStatus.COMPLETED, view.units_by_state
        assert view.units_by_state["succeeded"] == 6
        for u in us:
            check_unit(sim, u, dpsk=True)
        cleanup = await r.engine.cleanup(plan.job_id)
        await r.engine.confirm(
            cleanup.job_id, cleanup.digest, confirm_text=cleanup.summary.confirm_text
        )
        done = await r.engine.wait(cleanup.job_id, timeout=60)
        assert done.status == JobStatus.COMPLETED, done.units_by_state
        assert shape(sim) == before
        assert r.stats()["duplicate_create_attempts"] == 0
        listed = [j.id for j in await r.engine.list_jobs()]
        assert set(listed) == {plan.job_id, cleanup.job_id}
        assert await r.engine.store.active_jobs() == []

    for job_id in (plan.job_id, cleanup.job_id):
        slots = await job_slots(cluster, prefix, job_id)
        names = {key.rsplit(":", 1)[1] for key in slots}
        assert {"meta", "plan", "unitkeys", "cells", "counts", "events", "ledger"} <= names
        declared = JobKeys(prefix, job_id)
        for key in [*declared.all(), declared.planner]:
            slots[key] = await cluster.cluster_keyslot(key)
        assert len(set(slots.values())) == 1, slots
    # no command failed at all, cross-slot or other (a script's first call on a node
    # is answered NOSCRIPT and then loaded: the usual EVALSHA protocol)
    assert [e for e in cluster.errors if "NoScriptError" not in e] == []


async def test_the_runtime_detects_a_cluster_and_runs_a_job_on_it(
    cluster, cluster_url, prefix, tmp_path: Path, monkeypatch
):
    monkeypatch.delenv("PHASEGRID_SECRET_KEY", raising=False)
    us = units(3, dpsk=True)
    settings = RuntimeSettings(
        redis_url=cluster_url, data_dir=tmp_path, backend="sim", sim_profile="instant",
        sim_aps=4, sim_extra_serials=[s for u in us for s in u.ap_serials],
        engine=EngineConfig(prefix=prefix, activity_min_interval=0.005,
                            activity_max_interval=0.05),
    )  # fmt: skip
    async with open_runtime(settings) as rt:
        assert isinstance(rt.redis, RedisCluster)
        assert rt.embedded is None
        plan = await rt.engine.plan("per_unit_dpsk", us)
        await rt.engine.confirm(plan.job_id, plan.digest)
        view = await rt.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED, view.units_by_state
        assert (await rt.engine.health())["redis"] == "ok"


async def test_blocking_reads_stay_under_the_cluster_client_s_socket_timeout(cluster_url):
    client = RedisCluster.from_url(cluster_url, decode_responses=True, socket_timeout=0.4)
    try:
        assert max_block(client) == 0.2
    finally:
        await client.aclose()
