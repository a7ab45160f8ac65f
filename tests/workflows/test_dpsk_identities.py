"""R1 keeps one identity per DPSK passphrase, in the pool's identity group, and
refuses to delete a group that still holds identities. A job's cleanup deletes
the identities of the passphrases it created (only those) before any group;
`venue_cleanup` deletes a matching group's DPSK identities once its pool is
gone; the audit counts them."""

from __future__ import annotations

import pytest

from engine import JobStatus
from tests.workflows.rig import rig, sim_for, units
from workflows.sim import Simulator
from workflows.sim.model import DpskPool, IdentityGroup, Passphrase

pytestmark = pytest.mark.anyio


def seed_reused_unit(sim: Simulator) -> tuple[str, str]:
    """Unit 101's group and pool exist already and hold someone else's passphrase."""
    group = IdentityGroup(sim.new_uuid(), "101-IDG")
    sim.store.add_identity_group(group)
    pool = DpskPool(sim.new_id(), "101-DPSK", group.id, "KEYBOARD_FRIENDLY", 12)
    sim.store.add_pool(pool)
    sim.store.add_passphrases(pool.id, [Passphrase(sim.new_uuid(), "landlord", "not-ours-123")])
    return group.id, pool.id


def identities_of(sim: Simulator, group_id: str) -> dict[str, str | None]:
    """Identity name -> the passphrase it stands for."""
    group = sim.store.identity_groups[group_id]
    return {
        sim.store.identities[i].name: sim.store.identities[i].dpskGuid for i in group.identityIds
    }


async def test_identity_per_passphrase_audit_and_cleanup_order(redis, prefix) -> None:
    us = units(2)  # 101 (group and pool reused) and 102 (all created)
    sim = sim_for(us)
    group101, pool101 = seed_reused_unit(sim)
    async with rig(redis, prefix, sim) as r:
        plan, view = await r.run("per_unit_dpsk", us)
        assert view.status == JobStatus.COMPLETED
        store = sim.store
        group102 = store.identity_by_name["102-IDG"]
        pool102 = store.pools[store.pool_by_name["102-DPSK"]]
        # one identity per passphrase, in the pool's group, naming its passphrase
        assert identities_of(sim, group102) == {p.username: p.id for p in
                                                pool102.passphrases.values()}  # fmt: skip
        ours101 = {p.username: p.id for p in store.pools[pool101].passphrases.values()}
        assert identities_of(sim, group101) == ours101
        assert "landlord" in ours101

        # audit: a group's item counts its identities; a passphrase whose identity
        # went missing behind the job's back has drifted
        report = await r.engine.audit(plan.job_id)
        assert report.counts["drifted"] == report.counts["missing"] == 0
        idg = next(i for i in report.items if i.resource == "identity_group" and i.unit == "102")
        assert idg.detail == f"{len(pool102.passphrases)} identities"
        victim = next(i for i in store.identities.values() if i.name == "102-1")
        store.delete_identities(group102, [victim.id])
        report = await r.engine.audit(plan.job_id)
        drifted = [(i.unit, i.resource, i.name, i.detail) for i in report.items
                   if i.status == "drifted"]  # fmt: skip
        assert drifted == [("102", "passphrase", "102-1", "its identity is gone")]

        cleanup = await r.engine.cleanup(plan.job_id)
        assert cleanup.global_phases["identities"].action == "delete"
        await r.engine.confirm(cleanup.job_id, cleanup.digest, confirm_text="Sim Venue")
        done = await r.engine.wait(cleanup.job_id, timeout=60)
        assert done.status == JobStatus.COMPLETED, done
        # 102: identities first, so its group could go; 101: only the job's passphrases
        # and their identities went, the landlord's (and the reused group) stay
        assert "102-IDG" not in store.identity_by_name
        assert not any(i.groupId == group102 for i in store.identities.values())
        assert identities_of(sim, group101) == {"landlord": ours101["landlord"]}
        assert [p.username for p in store.pools[pool101].passphrases.values()] == ["landlord"]


async def test_venue_cleanup_deletes_dpsk_identities_before_groups(redis, prefix) -> None:
    us = units(2)
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        _plan, view = await r.run("per_unit_dpsk", us)
        assert view.status == JobStatus.COMPLETED
        assert sim.store.counts()["identities"] > 0
        opts = {"venue": "Sim Venue", "name_pattern": "10*"}
        wipe = await r.plan("venue_cleanup", [], opts)
        step = wipe.global_phases["identities"]
        assert step.action == "delete" and "identities" in (step.detail or "")
        await r.engine.confirm(wipe.job_id, wipe.digest, confirm_text="Sim Venue")
        done = await r.engine.wait(wipe.job_id, timeout=60)
        assert done.status == JobStatus.COMPLETED, done
        counts = sim.store.counts()
        assert counts["identities"] == counts["identityGroups"] == counts["dpskServices"] == 0


@pytest.mark.anyio
async def test_one_groups_failing_identity_delete_does_not_stop_the_others(redis, prefix) -> None:
    """A group whose identity delete fails every try (5 attempts x 3 transport tries)
    fails the phase, but only after every other group's identities are gone: the
    retry budget is spent per group, not by whichever group comes first."""
    from workflows.sim import FaultConfig, FaultRule

    us = units(3)
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        plan, view = await r.run("per_unit_dpsk", us)
        assert view.status == JobStatus.COMPLETED
        stuck = sim.store.identity_by_name["101-IDG"]  # the first group the phase visits
        route = "^DELETE /identityGroups/{groupId}/identities$"
        sim.faults = FaultConfig(rules=[FaultRule(action="http_503", route=route, match=stuck)])
        cleanup = await r.engine.cleanup(plan.job_id)
        await r.engine.confirm(cleanup.job_id, cleanup.digest, confirm_text="Sim Venue")
        done = await r.engine.wait(cleanup.job_id, timeout=120)
    assert done.status != JobStatus.COMPLETED
    left = {i.groupId for i in sim.store.identities.values()}
    assert left == {stuck}  # 102's and 103's identities went in the first attempt
