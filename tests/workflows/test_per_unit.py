"""per_unit_dpsk / per_unit_psk end to end against the simulator (real Redis)."""

from __future__ import annotations

import httpx
import pytest

from engine import JobStatus
from engine.errors import ConfirmationRequired
from tests.fixtures_sim import serve_sim
from tests.workflows.checks import check_unit, shape, writes
from tests.workflows.rig import rig, sim_for, units

pytestmark = pytest.mark.anyio


async def test_dpsk_100_units_complete_linked_rerun_reuses_audit_and_cleanup(redis, prefix):
    us = units(100, dpsk=True)  # R1's DPSK networks have no WPA3
    sim = sim_for(us)
    before = shape(sim)
    async with rig(redis, prefix, sim) as r:
        stats0 = r.stats()
        plan = await r.plan("per_unit_dpsk", us)
        stats1 = r.stats()
        assert writes(stats1) == writes(stats0) == {}  # Phase 0 writes nothing
        assert stats1["resources"] == stats0["resources"]
        # one bulk read per resource type, never one per unit
        reads = stats1["requests_total"] - stats0["requests_total"]
        assert reads <= 10, stats1["requests"]
        s = plan.summary
        # the APs go in with their new AP group: assign_aps has nothing to move
        assert s.conflicts == 0 and s.create == 700 and s.update == 0 and s.reuse == 101
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        assert view.units_by_state["succeeded"] == 100
        assert view.metrics["r1_calls"] >= 800  # 8 writes per unit, no per-unit read
        for u in us:
            check_unit(sim, u, dpsk=True)
        assert r.stats()["duplicate_create_attempts"] == 0

        # a second run of the same input: 100% reuse, nothing created
        again = await r.plan("per_unit_dpsk", us)
        assert again.summary.create == again.summary.update == again.summary.conflicts == 0
        assert again.summary.reuse == 801
        after_first = shape(sim)
        await r.engine.confirm(again.job_id, again.digest)
        assert (await r.engine.wait(again.job_id, timeout=60)).status == JobStatus.COMPLETED
        assert shape(sim) == after_first
        assert r.stats()["duplicate_create_attempts"] == 0

        # audit: all present; a pool deleted behind the job's back is missing
        report = await r.engine.audit(plan.job_id)
        assert report.counts["missing"] == report.counts["drifted"] == 0
        assert report.counts["present"] == len(
            {(e.resource, e.id) for e in await r.engine.ledger(plan.job_id)}
        )
        changed = sim.store.networks[sim.store.network_by_name["106-Unit-106"]]
        changed.wlan["vlanId"] = 3000  # edited behind the job's back
        report = await r.engine.audit(plan.job_id)
        drifted = [i for i in report.items if i.status == "drifted"]
        assert [(i.unit, i.resource) for i in drifted] == [("106", "network")]
        assert drifted[0].detail == "vlan 3000 (was 106)"
        changed.wlan["vlanId"] = 106
        victim = sim.store.networks[sim.store.network_by_name["105-Unit-105"]]
        sim.store.deactivate(sim.venue_id, victim.id)
        sim.store.delete_network(victim.id)
        report = await r.engine.audit(plan.job_id)
        missing = {(i.unit, i.resource) for i in report.items if i.status == "missing"}
        assert missing == {("105", "network"), ("105", "activation"), ("105", "binding")}

        # cleanup deletes exactly the ledger, in reverse order: the venue is back
        cleanup = await r.engine.cleanup(plan.job_id)
        assert cleanup.summary.destructive and cleanup.summary.confirm_text == "Sim Venue"
        with pytest.raises(ConfirmationRequired):
            await r.engine.confirm(cleanup.job_id, cleanup.digest)
        await r.engine.confirm(cleanup.job_id, cleanup.digest, confirm_text="Sim Venue")
        done = await r.engine.wait(cleanup.job_id, timeout=60)
        assert done.status == JobStatus.COMPLETED, done
        assert shape(sim) == before


async def test_psk_100_units_over_real_http(redis, prefix):
    us = units(100)
    sim = sim_for(us)
    with serve_sim(sim) as url:
        async with rig(redis, prefix, sim, base_url=url) as r, httpx.AsyncClient() as http:
            before = (await http.get(f"{url}/_sim/stats")).json()
            plan = await r.plan("per_unit_psk", us)
            after = (await http.get(f"{url}/_sim/stats")).json()
            assert writes(after) == writes(before) == {}  # Phase 0 wrote nothing
            assert after["resources"] == before["resources"]
            await r.engine.confirm(plan.job_id, plan.digest)
            view = await r.engine.wait(plan.job_id, timeout=60)
            assert plan.summary.create == 300 and plan.summary.conflicts == 0
            assert view.status == JobStatus.COMPLETED
            assert view.units_by_state["succeeded"] == 100
            for u in us:
                check_unit(sim, u, dpsk=False)
            again = await r.plan("per_unit_psk", us)
            assert again.summary.create == again.summary.update == 0
            assert r.stats()["duplicate_create_attempts"] == 0


async def test_passphrases_over_threshold_use_one_csv_import(redis, prefix):
    us = units(3, dpsk=True)
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        opts = {"passphrases": {"per_unit": 25, "bulk_threshold": 20}}
        _, view = await r.run("per_unit_dpsk", us, opts)
        assert view.status == JobStatus.COMPLETED
        for u in us:
            check_unit(sim, u, dpsk=True, passphrases=25)
        reqs = r.stats()["requests"]
        assert reqs["POST /dpskServices/{poolId}/passphrases/csvFiles"] == 3
        assert "POST /dpskServices/{poolId}/passphrases" not in reqs

    few = units(5, dpsk=True)[3:]
    sim = sim_for(few)
    async with rig(redis, prefix, sim) as r:
        opts = {"passphrases": {"per_unit": 3, "bulk_threshold": 3}}  # the option still holds
        _, view = await r.run("per_unit_dpsk", few, opts)
        assert view.status == JobStatus.COMPLETED
        reqs = r.stats()["requests"]
        assert reqs["POST /dpskServices/{poolId}/passphrases"] == 6  # one call each
        assert "POST /dpskServices/{poolId}/passphrases/csvFiles" not in reqs

    sim = sim_for(few)  # the default: one import as soon as more than one is missing
    async with rig(redis, prefix, sim) as r:
        _, view = await r.run("per_unit_dpsk", few, {"passphrases": {"per_unit": 2}})
        assert view.status == JobStatus.COMPLETED
        reqs = r.stats()["requests"]
        assert reqs["POST /dpskServices/{poolId}/passphrases/csvFiles"] == 2
        assert "POST /dpskServices/{poolId}/passphrases" not in reqs
        assert "POST /dpskServices/{poolId}/passphrases/query" not in reqs  # no list


async def test_lan_ports_standalone_and_in_the_unit_pipeline(redis, prefix):
    us = units(4)
    sim = sim_for(us)
    ports = {
        "*": [{"port_id": "2"}],
        "R650": [{"port_id": "2", "untag_id": 100}],
    }
    async with rig(redis, prefix, sim) as r:
        _, view = await r.run("ap_lan_ports", us, {"lan_ports": ports})
        assert view.status == JobStatus.COMPLETED
        for u in us:
            for serial in u.ap_serials:
                ap = sim.store.aps[serial]
                assert not ap.useVenueSettings
                port = ap.lanPorts["2"]
                if ap.model == "R650":  # the port's type is its profile's (ACCESS)
                    assert (port.type, port.vlanMembers, port.untagId) == ("ACCESS", "100", 100)
                else:
                    assert (port.type, port.untagId) == ("ACCESS", u.default_vlan)
        lan_job = (await r.engine.list_jobs(limit=1))[0].id
        cleanup = await r.engine.cleanup(lan_job)
        await r.engine.confirm(cleanup.job_id, cleanup.digest, confirm_text="Sim Venue")
        assert (await r.engine.wait(cleanup.job_id)).status == JobStatus.COMPLETED
        assert all(sim.store.aps[s].useVenueSettings for u in us for s in u.ap_serials)

        _, view = await r.run("per_unit_psk", us, {"lan_ports": ports})
        assert view.status == JobStatus.COMPLETED
        assert view.phases[-1].counts.get("succeeded") == 4


async def test_ap_names_resolve_to_serials_and_unknown_names_conflict(redis, prefix):
    from workflows.inputs import UnitInput

    sim = sim_for([], aps=4)  # seeded APs are named AP-001..AP-004
    serial_of = {a.name: a.serialNumber for a in sim.store.aps.values()}
    good = UnitInput(unit_number="7", ap_serials="AP-001;AP-002", ssid_name="Seven",
                     ssid_password="seven-pass-1", default_vlan=70)  # fmt: skip
    bad = UnitInput(unit_number="8", ap_serials=["AP-999"], ssid_name="Eight",
                    ssid_password="eight-pass-1")  # fmt: skip
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_psk", [good, bad])
        phases = {u.unit: u.phases for u in plan.units}
        # the names resolve at plan time; the APs go in with the new group
        assert list(phases["7"]["ap_group"].data["aps_from"]) == [
            serial_of["AP-001"],
            serial_of["AP-002"],
        ]
        assert phases["8"]["assign_aps"].action == "conflict"
        _, view = await r.run("per_unit_psk", [good])
        assert view.status == JobStatus.COMPLETED
        gid = sim.store.group_by_name[(sim.venue_id, "7-APG")]
        assert sim.store.aps_by_group[gid] == {serial_of["AP-001"], serial_of["AP-002"]}


async def test_options_concurrency_bounds_a_phase(redis, prefix):
    import anyio

    us = units(12)
    sim = sim_for(us, profile="fast")
    async with rig(redis, prefix, sim) as r:
        executor = r.engine.registry.get("per_unit_psk").phase("activate").executor
        inner, seen = executor.do, {"now": 0, "max": 0}

        async def spy(ctx, client, cache):
            seen["now"] += 1
            seen["max"] = max(seen["max"], seen["now"])
            try:
                await anyio.sleep(0.01)
                return await inner(ctx, client, cache)
            finally:
                seen["now"] -= 1

        executor.do = spy
        _, view = await r.run("per_unit_psk", us, {"concurrency": {"activate": 2}})
        assert view.status == JobStatus.COMPLETED
        assert seen["max"] == 2
