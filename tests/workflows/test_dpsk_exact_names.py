"""Issue 10 acceptance: lookups by name search the way R1 allows (substring
`keyword` / `searchString`) and match the exact name, over every page.

The tenant has, besides the exact "101-IDG"/"101-DPSK", groups and pools whose
names merely contain a unit's names ("101-IDG-old", "102-IDG-annex", ...), and
37 pools: with 10 per page the exact pool sits on the fourth page. A client
that trusted R1's first search hit (or filters R1 ignores) would adopt the
wrong group or pool.
"""

from __future__ import annotations

import pytest

from engine import JobStatus
from tests.workflows.rig import Rig, rig, sim_for, units
from workflows.sim import Simulator
from workflows.sim.model import DpskPool, IdentityGroup

pytestmark = pytest.mark.anyio

PAGE = 10


def seed(sim: Simulator) -> dict[str, str]:
    """Name -> id of the groups and pools that exist before the job (37 pools)."""
    ids: dict[str, str] = {}

    def group_and_pool(group: str, pool: str) -> None:
        g = IdentityGroup(sim.new_uuid(), group)
        sim.store.add_identity_group(g)
        p = DpskPool(sim.new_id(), pool, g.id, "KEYBOARD_FRIENDLY", 12)
        sim.store.add_pool(p)
        ids[group], ids[pool] = g.id, p.id

    for i in range(34):  # sort before "101-...": the exact pool is not on page 1
        group_and_pool(f"0{i:02d}-IDG", f"0{i:02d}-DPSK")
    group_and_pool("101-IDG-old", "101-DPSK-old")  # shares unit 101's prefixes
    group_and_pool("101-IDG", "101-DPSK")  # unit 101's exact names: reused
    group_and_pool("102-IDG-annex", "102-DPSK-annex")  # contains unit 102's names
    assert len(sim.store.pools) == 37
    return ids


def phase(plan: object, unit: str, pid: str) -> object:
    return next(u.phases[pid] for u in plan.units if u.unit == unit)  # type: ignore[attr-defined]


async def test_prefix_sharing_names_and_37_pools_plan_and_run_exactly(redis, prefix) -> None:
    us = units(2)  # units 101 and 102
    sim = sim_for(us)
    ids = seed(sim)
    async with rig(redis, prefix, sim) as r:
        r.client.page_size = PAGE  # 37 pools and 40 groups: several pages each
        plan = await r.plan("per_unit_dpsk", us)
        g101, p101 = phase(plan, "101", "identity_group"), phase(plan, "101", "dpsk_pool")
        assert (g101.action, g101.data.get("id")) == ("reuse", ids["101-IDG"])
        assert (p101.action, p101.data.get("id")) == ("reuse", ids["101-DPSK"])
        g102, p102 = phase(plan, "102", "identity_group"), phase(plan, "102", "dpsk_pool")
        assert (g102.action, g102.name) == ("create", "102-IDG")
        assert (p102.action, p102.name) == ("create", "102-DPSK")
        reads = r.stats()["requests"]  # every page was read
        assert reads["POST /dpskServices/query"] >= 4 and reads["POST /identityGroups/query"] >= 4

        await r.engine.confirm(plan.job_id, plan.digest)
        view = await r.engine.wait(plan.job_id, timeout=60)
        assert view.status == JobStatus.COMPLETED, view
        await check_nothing_adopted(r, plan.job_id, ids)


async def check_nothing_adopted(r: Rig, job_id: str, ids: dict[str, str]) -> None:
    store = r.sim.store
    ledger = {(e.unit, e.resource): e for e in await r.engine.ledger(job_id)}
    assert ledger[("101", "identity_group")].id == ids["101-IDG"]
    assert ledger[("101", "identity_group")].action == "reused"
    assert ledger[("101", "dpsk_pool")].id == ids["101-DPSK"]
    made_group, made_pool = ledger[("102", "identity_group")], ledger[("102", "dpsk_pool")]
    assert made_group.action == made_pool.action == "created"
    assert made_group.id not in ids.values() and made_pool.id not in ids.values()
    assert store.identity_groups[made_group.id].name == "102-IDG"
    assert store.pools[made_pool.id].name == "102-DPSK"
    assert store.pools[made_pool.id].identityGroupId == made_group.id
    # the look-alikes are untouched: no passphrase landed in them
    for name in ("101-DPSK-old", "102-DPSK-annex"):
        assert not store.pools[ids[name]].passphrases
