"""Faults (5xx, 429 storms, transient and permanent activity FAILs), retry, and
no secret in clear anywhere a job leaves traces."""

from __future__ import annotations

import json

import pytest

from engine import JobStatus
from tests.workflows.rig import rig, sim_for, units
from workflows.inputs.samples import sample_cloudpath
from workflows.sim.config import FaultConfig, FaultRule
from workflows.specs.cloudpath import cloudpath_job

pytestmark = pytest.mark.anyio


async def test_transient_faults_and_429_storms_still_complete(redis, prefix):
    us = units(30)
    sim = sim_for(us)
    faults = FaultConfig(
        http_5xx_rate=0.05,
        activity_fail_transient_rate=0.05,
        lost_response_rate=0.02,
        rules=[FaultRule(action="http_429", route="POST /wifiNetworks$", times=60),
               FaultRule(action="http_429", route="/venues/apGroups/query", times=40)],
    )  # fmt: skip
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_dpsk", us)
        sim.faults = faults  # the storm hits the run
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED, view.units_by_state
        assert view.metrics["rate_limited"] >= 60
        faults = r.stats()["faults_injected"]
        assert faults.get("activity_fail_transient", 0) > 0 and sum(faults.values()) > 100
        sim.faults = FaultConfig()
        from tests.workflows.checks import check_unit

        for u in us:
            check_unit(sim, u, dpsk=True)


async def test_permanent_fail_is_partial_with_the_r1_message_then_retry_completes(redis, prefix):
    us = units(10)
    sim = sim_for(us)
    sim.faults = FaultConfig(rules=[
        FaultRule(action="fail_permanent", route="POST /identityGroups$", match="10[57]-IDG",
                  message="Identity group quota reached"),
    ])  # fmt: skip
    async with rig(redis, prefix, sim) as r:
        plan, view = await r.run("per_unit_dpsk", us)
        assert view.status == JobStatus.PARTIAL
        assert view.units_by_state["failed"] == 2 and view.units_by_state["succeeded"] == 8
        for key in ("105", "107"):
            detail = await r.engine.unit(plan.job_id, key)
            error = detail.phases["identity_group"].error or ""
            assert "Identity group quota reached" in error, error
            assert detail.phases["passphrases"].state == "blocked"
        sim.faults = FaultConfig()
        await r.engine.retry(plan.job_id)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        assert view.units_by_state["succeeded"] == 10
        assert r.stats()["duplicate_create_attempts"] == 0


async def _job_traces(r, job_id: str, prefix: str) -> str:
    """Everything Redis holds for the job, its events and what the faces read."""
    chunks = []
    async for key in r.engine.redis.scan_iter(match=f"{prefix}:*", count=1000):
        kind = await r.engine.redis.type(key)
        if kind == "string":
            chunks.append(await r.engine.redis.get(key))
        elif kind == "hash":
            chunks.append(json.dumps(await r.engine.redis.hgetall(key)))
        elif kind == "list":
            chunks.append(json.dumps(await r.engine.redis.lrange(key, 0, -1)))
        elif kind == "set":
            chunks.append(json.dumps(sorted(await r.engine.redis.smembers(key))))
        elif kind == "zset":
            chunks.append(json.dumps(await r.engine.redis.zrange(key, 0, -1)))
        elif kind == "stream":
            chunks.append(json.dumps(await r.engine.redis.xrange(key)))
    chunks.append((await r.engine.get(job_id)).model_dump_json())
    page = await r.engine.units(job_id, limit=5000)
    chunks.append(page.model_dump_json())
    for u in page.units:
        chunks.append((await r.engine.unit(job_id, u.unit)).model_dump_json())
    chunks.append(
        json.dumps(
            [e.model_dump(mode="json") for e in await r.engine.events(job_id, limit=100_000)]
        )
    )
    chunks.append((await r.engine.get_plan(job_id)).model_dump_json())
    chunks.append(json.dumps([e.model_dump(mode="json") for e in await r.engine.ledger(job_id)]))
    return "\n".join(c for c in chunks if c)


async def test_no_psk_or_passphrase_in_clear_after_jobs(redis, prefix):
    us = units(12)
    export = sample_cloudpath(60, seed=3)
    cp_units, cp_opts = cloudpath_job(export, include_revoked=True)
    sim = sim_for(us)
    sim.faults = FaultConfig(rules=[
        FaultRule(action="fail_permanent", route="POST /wifiNetworks$", match="Unit-103"),
    ])  # fmt: skip
    secrets = [u.ssid_password.get_secret_value() for u in us]
    secrets += [p.passphrase.get_secret_value() for p in export.dpsks]
    async with rig(redis, prefix, sim) as r:
        psk, view = await r.run("per_unit_psk", us, {"passphrases": {"per_unit": 2}})
        assert view.status == JobStatus.PARTIAL  # one unit failed: its input stays for retry
        held = await _job_traces(r, psk.job_id, prefix)
        kept = await redis.hgetall(f"{prefix}:{{job:{psk.job_id}}}:inputs")
        assert list(kept) == ["2"] and "Unit-103" in held  # kept for the retry, sealed
        assert not [s for s in secrets if s in held]
        sim.faults = FaultConfig()
        await r.engine.retry(psk.job_id)
        assert (await r.engine.wait(psk.job_id)).status == JobStatus.COMPLETED
        dpsk, view = await r.run("per_unit_dpsk", us[:4], {"naming": {"prefix": "d"}})
        assert view.status == JobStatus.COMPLETED
        cp, view = await r.run("cloudpath_dpsk", cp_units, cp_opts)
        assert view.status == JobStatus.COMPLETED
        await r.engine.audit(cp.job_id)
        traces = "".join([await _job_traces(r, j.job_id, prefix) for j in (psk, dpsk, cp)])
    assert "Unit-105" in traces and "resident-00007" in traces
    leaked = [s for s in secrets if s in traces]
    assert not leaked, f"{len(leaked)} secrets in clear"
