"""Cloudpath migration, venue_cleanup, and Phase 0 conflicts."""

from __future__ import annotations

import pytest

from engine import JobStatus
from engine.errors import ConfirmationRequired, ConflictsPresent
from tests.workflows.checks import shape, writes
from tests.workflows.rig import rig, sim_for, units
from workflows.inputs.samples import sample_cloudpath
from workflows.specs.cloudpath import cloudpath_job

pytestmark = pytest.mark.anyio


async def test_cloudpath_300_passphrases_migrate_in_a_few_calls(redis, prefix):
    export = sample_cloudpath(300)
    cp_units, opts = cloudpath_job(export, network_name="Residents", chunk_size=100)
    sim = sim_for([])
    before = shape(sim)
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("cloudpath_dpsk", cp_units, opts)
        revoked = sum(1 for p in export.dpsks if p.status == "REVOKED")
        assert plan.summary.skip == revoked and plan.summary.conflicts == 0
        assert writes(r.stats()) == {}
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        assert view.units_by_state["succeeded"] == 300
        store = sim.store
        pool = store.pools[store.pool_by_name["Residents DPSK"]]
        migrated = [p for p in export.dpsks if p.status != "REVOKED"]
        assert len(pool.passphrases) == len(migrated)
        by_name = {p.username: p for p in pool.passphrases.values()}
        for p in migrated:
            got = by_name[p.name]
            assert got.passphrase == p.passphrase.get_secret_value()
            assert got.vlanId == p.vlan_id
        net = store.networks[store.network_by_name["Residents"]]
        assert net.dpskServiceId == pool.id
        assert store.identity_groups[pool.identityGroupId].name == "Residents DPSK"
        calls = view.metrics["r1_calls:passphrase"]
        # 3 imports, their id read-backs, and activity polls (how many depends on load)
        assert calls <= len(migrated) / 10, calls  # vs one call per passphrase
        assert r.stats()["requests"]["POST /dpskServices/{poolId}/passphrases/csvFiles"] == 3
        events = await r.engine.events(plan.job_id, limit=100_000)
        progress = [e.event.message for e in events
                    if getattr(e.event, "message", "").startswith("CSV import of")]  # fmt: skip
        assert len(progress) == 3, progress

        again = await r.plan("cloudpath_dpsk", cp_units, opts)
        assert again.summary.create == 0 and again.summary.reuse == len(migrated) + 5

        del store.pools[pool.id].passphrases[by_name[migrated[0].name].id]
        report = await r.engine.audit(plan.job_id)
        assert [i.name for i in report.items if i.status == "missing"] == [migrated[0].name]
        store.pools[pool.id].passphrases[by_name[migrated[0].name].id] = by_name[migrated[0].name]

        cleanup = await r.engine.cleanup(plan.job_id)
        await r.engine.confirm(cleanup.job_id, cleanup.digest, confirm_text="Sim Venue")
        assert (await r.engine.wait(cleanup.job_id)).status == JobStatus.COMPLETED
        assert shape(sim) == before


async def test_venue_cleanup_needs_the_typed_venue_name(redis, prefix):
    us = units(6)
    sim = sim_for(us)
    before = shape(sim)
    async with rig(redis, prefix, sim) as r:
        _, view = await r.run("per_unit_dpsk", us)
        assert view.status == JobStatus.COMPLETED
        plan = await r.plan("venue_cleanup", [], {"name_pattern": "10[1-3]-*"})
        assert plan.summary.destructive and plan.summary.confirm_text == "Sim Venue"
        assert plan.global_phases["ap_groups"].data["count"] == 3
        assert writes(r.stats()).get("DELETE /wifiNetworks/{networkId}") is None
        for wrong in (None, "sim venue", "Other"):
            with pytest.raises(ConfirmationRequired):
                await r.engine.confirm(plan.job_id, plan.digest, confirm_text=wrong)
        assert len(sim.store.networks) == 6  # refused: nothing deleted
        await r.engine.confirm(plan.job_id, plan.digest, confirm_text="Sim Venue")
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        names = sorted(n.name for n in sim.store.networks.values())
        assert names == ["104-Unit-104", "105-Unit-105", "106-Unit-106"]
        assert len(sim.store.pools) == len(sim.store.identity_groups) == 3
        rest = await r.plan("venue_cleanup", [], {"name_pattern": "10*-*"})
        await r.engine.confirm(rest.job_id, rest.digest, confirm_text="Sim Venue")
        assert (await r.engine.wait(rest.job_id)).status == JobStatus.COMPLETED
        assert shape(sim) == before


async def test_phase0_conflicts(redis, prefix):
    us = units(20)
    sim = sim_for(us[:19])  # unit 120's APs are not in the venue
    async with rig(redis, prefix, sim) as r:
        _, view = await r.run("per_unit_psk", us[:1])
        assert view.status == JobStatus.COMPLETED
        changed = [us[0].model_copy(update={"default_vlan": 999}), *us[1:]]
        plan = await r.plan("per_unit_psk", changed)
        by_unit = {u.unit: u for u in plan.units}
        assert by_unit["101"].phases["network"].action == "conflict"
        assert "VLAN 101 (want 999)" in by_unit["101"].phases["network"].detail
        assert by_unit["120"].phases["assign_aps"].action == "conflict"
        assert "not in venue" in by_unit["120"].phases["assign_aps"].detail
        with pytest.raises(ConflictsPresent):
            await r.engine.confirm(plan.job_id, plan.digest)
        long = us[1].model_copy(update={"ssid_name": "A-very-long-SSID-name-for-R1-xy"})
        plan = await r.plan("per_unit_psk", [long])
        detail = plan.units[0].phases["network"].detail
        assert "not a valid R1 network name (2-32 characters" in detail
        nopass = await r.plan("per_unit_psk", units(3, with_passwords=False)[2:])
        assert "needs its ssid_password" in nopass.units[0].phases["network"].detail
        # one shared AP group for 20 units: over the 15-SSID budget from the 16th
        shared = {"naming": {"ap_group": "Building-APG"}}
        plan = await r.plan("per_unit_psk", us[1:19], shared)
        actions = [u.phases["activate"].action for u in plan.units]
        assert actions.count("conflict") == 3 and actions[:15] == ["create"] * 15
        assert plan.units[1].phases["ap_group"].detail.startswith("shared with unit")
        assert writes(r.stats()) == {k: v for k, v in writes(r.stats()).items()}


async def test_ssid_budget_throttles_activation_at_run_time(redis, prefix):
    from workflows.sim.model import Activation, Network

    us = units(8)
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_psk", us, {"naming": {"ap_group": "Shared-APG"}})
        assert plan.summary.conflicts == 0
        for i in range(10):  # meanwhile 10 venue-wide SSIDs appear: 5 of 15 left
            net = Network(f"other-{i}", f"other-{i}", "psk", {"ssid": f"o{i}"})
            sim.store.add_network(net)
            sim.store.activate(Activation(sim.venue_id, net.id, True))
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.PARTIAL
        assert view.units_by_state == {**view.units_by_state, "succeeded": 5, "failed": 3}
        failed = await r.engine.units(plan.job_id, state="failed")
        detail = await r.engine.unit(plan.job_id, failed.units[0].unit)
        # The run budgets on the plan's counts (no re-read on a first try): SSIDs that
        # appear after the plan are R1's to refuse, and R1 does; nothing goes over.
        assert "exceeds the maximum of 15 SSIDs" in detail.phases["activate"].error
        assert r.stats()["activities"]["FAIL"] == 3
        gid = sim.store.group_by_name[(sim.venue_id, "Shared-APG")]
        assert sim.store.ssid_count(gid) == 15


async def test_a_bad_row_fails_only_its_own_unit_then_retry_completes(redis, prefix):
    from workflows.sim.config import FaultConfig, FaultRule

    export = sample_cloudpath(200, seed=5)
    cp_units, opts = cloudpath_job(export, include_revoked=True, chunk_size=100)
    sim = sim_for([])
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("cloudpath_dpsk", cp_units, opts)
        sim.faults = FaultConfig(rules=[
            FaultRule(action="fail_permanent", route="csvFiles", match="resident-00042,",
                      message="Passphrase rejected by policy"),
        ])  # fmt: skip
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.PARTIAL
        assert view.units_by_state["failed"] == 1 and view.units_by_state["succeeded"] == 199
        detail = await r.engine.unit(plan.job_id, "resident-00042")
        assert "Passphrase rejected by policy" in detail.phases["passphrase"].error
        imports = r.stats()["requests"]["POST /dpskServices/{poolId}/passphrases/csvFiles"]
        assert imports <= 2 + 2 * 7  # the bad chunk is bisected down to its one row
        sim.faults = FaultConfig()
        await r.engine.retry(plan.job_id)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        assert sim.store.passphrase_count == 200
        assert r.stats()["duplicate_create_attempts"] == 0
        assert view.metrics["r1_calls:passphrase"] < 50  # incl. the bisection


async def test_shared_pool_limits_and_pool_name_collisions(redis, prefix):
    from workflows.sim.model import DpskPool, IdentityGroup

    us = units(70, aps_per_unit=0)
    sim = sim_for(us)
    sim.store.add_identity_group(IdentityGroup("idg-x", "Someone-IDG"))
    sim.store.add_pool(DpskPool("pool-x", "101-DPSK", "idg-x"))
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_dpsk", us[:2])
        pool = plan.units[0].phases["dpsk_pool"]
        assert pool.action == "conflict" and "another group" in pool.detail
        shared = {"naming": {"pool": "Shared-DPSK", "identity_group": "Shared-IDG"}}
        plan = await r.plan("per_unit_dpsk", us, shared)
        binds = [u.phases["bind_pool"].action for u in plan.units]
        assert binds.count("conflict") == 6 and binds[:64] == ["create"] * 64
        assert plan.units[5].phases["dpsk_pool"].detail == "shared with unit 101"
        # 10 units sharing one pool: created once, no duplicate create attempts
        plan, view = await r.run("per_unit_dpsk", us[1:11], shared)
        assert view.status == JobStatus.COMPLETED
        assert r.stats()["duplicate_create_attempts"] == 0
        shared_pool = sim.store.pools[sim.store.pool_by_name["Shared-DPSK"]]
        assert len(shared_pool.networkIds) == 10 and len(shared_pool.passphrases) == 10
        cleanup = await r.engine.cleanup(plan.job_id)
        assert {i["kind"] for i in cleanup.options["global_items"]} == {
            "identity_group", "dpsk_pool"}  # fmt: skip
        await r.engine.confirm(cleanup.job_id, cleanup.digest, confirm_text="Sim Venue")
        assert (await r.engine.wait(cleanup.job_id)).status == JobStatus.COMPLETED
        assert "Shared-DPSK" not in sim.store.pool_by_name
        assert "Shared-IDG" not in sim.store.identity_by_name
        assert len(sim.store.networks) == 0
