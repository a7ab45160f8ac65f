"""Issue 12: a first try acts on the confirmed plan (Phase 0's inventory is the
read), writes in bulk and waits for a phase's writes together; retries, resumes
and duplicates still look before they act, and cleanup deletes only what the
job made (passphrases imported by username included)."""

from __future__ import annotations

from typing import Any

import pytest

from engine import JobStatus
from engine.context import PhaseContext
from tests.workflows.checks import check_unit
from tests.workflows.rig import rig, sim_for, units
from tests.workflows.test_dpsk_identities import identities_of, seed_reused_unit
from tests.workflows.test_ledger_truth import actions
from workflows.sim.config import FaultConfig, FaultRule
from workflows.sim.model import IdentityGroup, Passphrase

pytestmark = pytest.mark.anyio

LAN = {"lan_ports": {"*": [{"port_id": "2"}]}}


def reads(stats: dict[str, Any]) -> dict[str, int]:
    """Reads of the tenant by route (activity polls and the token excluded)."""
    out = {}
    for route, n in stats["requests"].items():
        method, _, path = route.partition(" ")
        if "activities" in path or "oauth2" in path:
            continue
        if method == "GET" or path.endswith("/query"):
            out[route] = n
    return out


def grown(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


async def test_a_first_try_reads_nothing_per_unit(redis, prefix):
    us = units(6, dpsk=True)
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        opts = {"passphrases": {"per_unit": 5}, **LAN}
        plan = await r.plan("per_unit_dpsk", us, opts)
        before = reads(r.stats())
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        for u in us:
            check_unit(sim, u, dpsk=True, passphrases=5)
        # the venue phase's one bulk read for the whole job; nothing per unit
        assert grown(reads(r.stats()), before) == {"POST /venues/query": 1}
        req = r.stats()["requests"]
        assert "PUT /venues/{venueId}/apGroups/{apGroupId}/aps/{serial}" not in req
        assert req["POST /dpskServices/{poolId}/passphrases/csvFiles"] == 6


async def test_a_retry_looks_first_and_a_duplicate_is_adopted(redis, prefix):
    us = units(2, dpsk=True)
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_dpsk", us)
        # after the plan: someone else makes 101's identity group (a duplicate FAIL
        # for our create, then adopted), and 102's network create loses its answer
        sim.store.add_identity_group(IdentityGroup(sim.new_uuid(), "101-IDG"))
        lost = FaultRule(action="lost", route="^POST /wifiNetworks$", match="102-", times=1)
        sim.faults = FaultConfig(rules=[lost])
        before = reads(r.stats())
        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED
        got101, got102 = [await actions(r, plan.job_id, u) for u in ("101", "102")]
        assert got101["identity_group"] == ["reused"]  # adopted, never ours to delete
        assert got102["network"] == ["created"]  # the retry found it with our tag
        assert r.stats()["duplicate_create_attempts"] == 1
        assert len([n for n in sim.store.networks.values() if n.name.startswith("102-")]) == 1
        more = grown(reads(r.stats()), before)
        # only the adoption and the retry looked (once each), nothing else
        assert more.pop("POST /identityGroups/query") == 1
        assert more.pop("POST /wifiNetworks/query") == 1
        assert more == {"POST /venues/query": 1}


async def test_a_reuse_takes_the_plans_id(redis, prefix):
    us = units(2)  # 101's identity group and pool exist already
    sim = sim_for(us)
    group_id, pool_id = seed_reused_unit(sim)
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_dpsk", us)
        phases = plan.units[0].phases
        assert phases["identity_group"].data == {"id": group_id}
        assert phases["dpsk_pool"].data == {"id": pool_id}
        before = reads(r.stats())
        await r.engine.confirm(plan.job_id, plan.digest)
        assert (await r.engine.wait(plan.job_id, timeout=60)).status == JobStatus.COMPLETED
        ledger = [e for e in await r.engine.ledger(plan.job_id) if e.unit == "101"]
        by_kind = {e.resource: (e.id, e.action) for e in ledger}
        assert by_kind["identity_group"] == (group_id, "reused")
        assert by_kind["dpsk_pool"] == (pool_id, "reused")
        more = grown(reads(r.stats()), before)
        assert "POST /identityGroups/query" not in more and "POST /dpskServices/query" not in more


async def test_the_ap_group_is_created_with_the_units_aps(redis, prefix):
    us = units(3)
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        plan, view = await r.run("per_unit_psk", us)
        assert view.status == JobStatus.COMPLETED
        assert plan.units[0].phases["assign_aps"].calls == 0
        req = r.stats()["requests"]
        assert "PUT /venues/{venueId}/apGroups/{apGroupId}/aps/{serial}" not in req
        assert req["POST /venues/{venueId}/apGroups"] == 3
        for u in us:
            check_unit(sim, u, dpsk=False)
        # the ledger knows where each AP came from (cleanup moves it back first)
        ledger = [e for e in await r.engine.ledger(plan.job_id) if e.resource == "ap"]
        assert {e.id for e in ledger} == {s for u in us for s in u.ap_serials}
        assert all(e.action == "created" and e.parent["from_group_id"] for e in ledger)


async def test_lan_ports_of_the_units_aps_are_waited_for_together(redis, prefix, monkeypatch):
    seen: list[tuple[str, str, int]] = []
    one, many = PhaseContext.wait_activity, PhaseContext.wait_activities

    async def wait_one(self, backend, activity_id, timeout=None):
        seen.append((self.phase.id, "one", 1))
        return await one(self, backend, activity_id, timeout)

    async def wait_many(self, backend, ids, timeout=None):
        seen.append((self.phase.id, "together", len(ids)))
        return await many(self, backend, ids, timeout)

    monkeypatch.setattr(PhaseContext, "wait_activity", wait_one)
    monkeypatch.setattr(PhaseContext, "wait_activities", wait_many)
    us = units(1)
    assert len(us[0].ap_serials) == 2
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        _, view = await r.run("ap_lan_ports", us, LAN)
        assert view.status == JobStatus.COMPLETED
    # the two APs' overrides in one wait, then their port settings in one wait
    assert [s for s in seen if s[0] == "lan_ports"] == [
        ("lan_ports", "together", 2),
        ("lan_ports", "together", 2),
    ]
    assert all(not sim.store.aps[s].useVenueSettings for s in us[0].ap_serials)


async def test_cleanup_after_an_import_deletes_exactly_the_jobs_passphrases(redis, prefix):
    us = units(2, dpsk=True)
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        plan, view = await r.run("per_unit_dpsk", us, {"passphrases": {"per_unit": 3}})
        assert view.status == JobStatus.COMPLETED
        req = r.stats()["requests"]
        assert req["POST /dpskServices/{poolId}/passphrases/csvFiles"] == 2
        assert "POST /dpskServices/{poolId}/passphrases/query" not in req  # no list
        store = sim.store
        pool = store.pools[store.pool_by_name["102-DPSK"]]
        group_id = pool.identityGroupId
        ours = {p.id for p in pool.passphrases.values()}
        assert len(ours) == 3
        # meanwhile someone adds a passphrase of their own to 102's pool
        store.add_passphrases(pool.id, [Passphrase(sim.new_uuid(), "landlord", "not-ours-456")])
        landlord = next(p.id for p in pool.passphrases.values() if p.username == "landlord")
        report = await r.engine.audit(plan.job_id)
        phrases = [i for i in report.items if i.resource == "passphrase"]
        assert len(phrases) == 6 and {i.status for i in phrases} == {"present"}

        cleanup = await r.engine.cleanup(plan.job_id)
        await r.engine.confirm(cleanup.job_id, cleanup.digest, confirm_text="Sim Venue")
        await r.engine.wait(cleanup.job_id, timeout=60)
        # 101: all gone; 102: the job's three and their identities, not the landlord's
        assert "101-DPSK" not in store.pool_by_name and "101-IDG" not in store.identity_by_name
        assert set(pool.passphrases) == {landlord}
        assert identities_of(sim, group_id) == {"landlord": landlord}
        assert not ours & set(pool.passphrases)
