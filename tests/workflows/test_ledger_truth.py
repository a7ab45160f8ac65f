"""The ledger says "created" only on evidence (our accepted create, or this job's
tag on what R1 answers); cleanup deletes nothing else and its plan says so."""

from __future__ import annotations

from typing import Any

import pytest

from app.remote_text import plan_text
from engine import JobStatus
from rpc.schemas import plan_result
from tests.workflows.checks import shape
from tests.workflows.rig import rig, sim_for, units
from workflows.provenance import job_tag
from workflows.sim.config import FaultConfig, FaultRule
from workflows.sim.model import ApGroup

pytestmark = pytest.mark.anyio


def unit_numbered(number: str) -> Any:
    return units(1)[0].model_copy(update={"unit_number": number, "ssid_name": f"Unit-{number}"})


async def actions(r: Any, job_id: str, unit: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in await r.engine.ledger(job_id):
        if e.unit == unit:
            out.setdefault(e.resource, []).append(e.action)
    return out


async def run_cleanup(r: Any, job_id: str) -> Any:
    plan = await r.engine.cleanup(job_id)
    await r.engine.confirm(plan.job_id, plan.digest, confirm_text="Sim Venue")
    view = await r.engine.wait(plan.job_id, timeout=60)
    assert view.status == JobStatus.COMPLETED, view.units_by_state
    return plan


async def test_preexisting_ap_group_found_after_503s_is_reused_and_survives_cleanup(redis, prefix):
    unit = unit_numbered("5001")
    sim = sim_for([unit])
    sim.store.add_ap_group(ApGroup("apg-operator", sim.venue_id, "5001-APG", "the operator's"))
    before = shape(sim)
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_dpsk", [unit])
        assert plan.units[0].phases["ap_group"].action == "reuse"
        # AP-group lookups would fail: the run takes the plan's id and looks up nothing
        sim.faults = FaultConfig(rules=[FaultRule(action="http_503", route="apGroups/query",
                                                  times=3)])  # fmt: skip
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        detail = await r.engine.unit(plan.job_id, "5001")
        assert "ap_group" not in detail.attempts  # no failed try: nothing was read
        assert r.stats()["faults_injected"] == {}
        ledger = await r.engine.ledger(plan.job_id)
        groups = [(e.id, e.action) for e in ledger if e.resource == "ap_group"]
        assert groups == [("apg-operator", "reused")]
        assert sim.store.ap_groups["apg-operator"].description == "the operator's"

        cleanup = await run_cleanup(r, plan.job_id)
        step = cleanup.units[0].phases["ap_groups"]
        assert step.action == "skip" and "keep ap_group 5001-APG: existed before" in step.detail
        assert "1 kept" in cleanup.global_phases["globals"].detail
        text = plan_text(plan_result(cleanup, False).model_dump(mode="json"))
        assert "KEEP: 1 kept, never deleted (not proven created by this job): 1 ap_group" in text
        assert sim.store.ap_groups["apg-operator"].name == "5001-APG"
        assert shape(sim) == before  # everything else the job made is gone, APs moved back


async def test_creates_whose_answer_was_lost_carry_our_tag_and_are_deleted(redis, prefix):
    us = units(2)
    sim = sim_for(us)
    before = shape(sim)
    lost = [FaultRule(action="lost", route=route, match="102-", times=1)
            for route in ("^POST /venues/{venueId}/apGroups$", "^POST /wifiNetworks$",
                          "^POST /identityGroups$")]  # fmt: skip
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_dpsk", us)
        sim.faults = FaultConfig(rules=lost)
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        assert r.stats()["faults_injected"] == {"lost_response": 3}
        assert r.stats()["duplicate_create_attempts"] == 0
        detail = await r.engine.unit(plan.job_id, "102")
        for phase in ("ap_group", "network", "identity_group"):
            assert len(detail.attempts[phase]) == 1, phase  # the lost answer cost one try
        got = await actions(r, plan.job_id, "102")
        assert got["ap_group"] == got["network"] == got["identity_group"] == ["created"]
        s, tag = sim.store, job_tag(plan.job_id)
        assert s.ap_groups[s.group_by_name[(sim.venue_id, "102-APG")]].description == tag
        assert s.networks[s.network_by_name["102-Unit-102"]].description == tag
        assert s.identity_groups[s.identity_by_name["102-IDG"]].description == tag

        cleanup = await run_cleanup(r, plan.job_id)
        assert "kept" not in (cleanup.global_phases["globals"].detail or "")
        assert shape(sim) == before


async def test_activation_found_on_a_retry_is_unknown_and_kept_with_its_network(redis, prefix):
    unit = unit_numbered("301")
    sim = sim_for([unit])
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_psk", [unit])
        # the activation is applied but every answer of the phase's first attempt is lost
        # (the transport tries an idempotent PUT 3 times): the phase re-runs and finds it
        route = "^PUT /venues/{venueId}/wifiNetworks/{networkId}/apGroups/{apGroupId}$"
        sim.faults = FaultConfig(rules=[FaultRule(action="lost", route=route, times=3)])
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        assert r.stats()["faults_injected"] == {"lost_response": 3}
        got = await actions(r, plan.job_id, "301")
        assert got["activation"] == ["unknown"]
        assert got["network"] == got["ap_group"] == ["created"]
        net_id = sim.store.network_by_name["301-Unit-301"]

        cleanup = await run_cleanup(r, plan.job_id)
        phases = cleanup.units[0].phases
        assert phases["deactivate"].action == "skip"
        assert "keep activation" in phases["deactivate"].detail
        assert "not proven created by this job" in phases["deactivate"].detail
        assert phases["networks"].action == "skip"
        assert "still holds activation" in phases["networks"].detail
        assert phases["ap_groups"].action == "delete"
        assert "2 kept" in cleanup.global_phases["globals"].detail
        assert net_id in sim.store.networks
        assert (sim.venue_id, net_id) in sim.store.activations
        assert "301-APG" not in {g.name for g in sim.store.ap_groups.values()}


async def test_passphrase_found_on_a_retry_keeps_its_pool_and_group(redis, prefix):
    unit = unit_numbered("401")
    sim = sim_for([unit])
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_dpsk", [unit])
        route = "^POST /dpskServices/{poolId}/passphrases$"
        sim.faults = FaultConfig(rules=[FaultRule(action="lost", route=route, times=1)])
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        got = await actions(r, plan.job_id, "401")
        assert got["passphrase"] == ["unknown"] and got["dpsk_pool"] == ["created"]
        pool_id = sim.store.pool_by_name["401-DPSK"]

        cleanup = await run_cleanup(r, plan.job_id)  # completes: nothing R1 would refuse
        assert "keep 1 passphrase(s)" in cleanup.global_phases["passphrases"].detail
        phases = cleanup.units[0].phases
        assert phases["pools"].action == phases["identity_groups"].action == "skip"
        assert "still holds passphrase 401-1" in phases["pools"].detail
        assert len(sim.store.pools[pool_id].passphrases) == 1
        assert "401-IDG" in sim.store.identity_by_name
        assert "401-Unit-401" not in sim.store.network_by_name  # proven ours: deleted


async def test_unknown_taggable_entries_are_reconciled_by_the_tag_r1_shows(redis, prefix):
    from engine.models import CleanupSource
    from workflows.cleanup import cleanup_from_ledger
    from workflows.sim.model import Network

    us = units(1, aps_per_unit=0)
    sim = sim_for(us)
    sim.store.add_network(Network("net-op", "Operator-Net", "psk", {"ssid": "op"}, "mine"))
    async with rig(redis, prefix, sim) as r:
        plan, view = await r.run("per_unit_psk", us)
        assert view.status == JobStatus.COMPLETED
        ledger = await r.engine.ledger(plan.job_id)
        ours = next(e for e in ledger if e.resource == "network")
        theirs = ours.model_copy(update={"id": "net-op", "name": "Operator-Net", "unit": "x"})
        doubtful = [e.model_copy(update={"action": "unknown"}) if e is ours else e
                    for e in ledger]  # fmt: skip
        source = CleanupSource(
            job_id=plan.job_id, workflow="per_unit_psk", options={}, unit_keys=["101", "x"],
            ledger=[*doubtful, theirs.model_copy(update={"action": "unknown"})],
        )  # fmt: skip
        request = cleanup_from_ledger(source)
        cleanup = await r.engine.plan(request.workflow, request.units, request.options)
        by_unit = {u.unit: u.phases["networks"] for u in cleanup.units}
        assert by_unit["101"].action == "delete"  # R1 shows this job's tag on it
        assert by_unit["x"].action == "skip" and "no tag" in by_unit["x"].detail
        await r.engine.confirm(cleanup.job_id, cleanup.digest, confirm_text="Sim Venue")
        assert (await r.engine.wait(cleanup.job_id)).status == JobStatus.COMPLETED
        assert set(sim.store.networks) == {"net-op"}


async def test_cloudpath_import_whose_answer_was_lost_leaves_unknown_passphrases(redis, prefix):
    from workflows.inputs.samples import sample_cloudpath
    from workflows.specs.cloudpath import cloudpath_job

    export = sample_cloudpath(20, seed=5)
    cp_units, opts = cloudpath_job(export, include_revoked=True, chunk_size=10)
    sim = sim_for([])
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("cloudpath_dpsk", cp_units, opts)
        sim.faults = FaultConfig(rules=[FaultRule(action="lost", route="csvFiles", times=1)])
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        assert sim.store.passphrase_count == 20
        got = [e.action for e in await r.engine.ledger(plan.job_id) if e.resource == "passphrase"]
        assert sorted(got) == ["created"] * 10 + ["unknown"] * 10  # the lost chunk's rows
        cleanup = await run_cleanup(r, plan.job_id)
        assert "keep 10 passphrase(s)" in cleanup.global_phases["passphrases"].detail
        assert sim.store.passphrase_count == 10
        pool = sim.store.pools[sim.store.pool_by_name[next(iter(sim.store.pool_by_name))]]
        assert len(pool.passphrases) == 10  # the pool and its group stay with them
        assert len(sim.store.identity_groups) == 1
