"""`venue_cleanup`: delete every resource whose name matches a pattern, venue by
venue, in reverse dependency order. Destructive: the venue's name must be typed.

    venue -> passphrases -> deactivate -> networks -> pools -> identities
          -> identity_groups -> aps (back to the default group) -> ap_groups

R1 keeps one identity per DPSK passphrase (`dpskGuid`) in the pool's identity
group and refuses to delete a group that holds any: once a matching group's
pool is gone, its DPSK identities go; other identities keep the group.

Phase 0 inventories the venue once (bulk reads) and lists what would go; each
step re-reads at run time, so a re-run deletes only what is left.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.models import PhasePlan
from engine.spec import PhaseSpec, WorkflowSpec
from workflows.activate_util import active_on
from workflows.inventory import Inventory, load_inventory, resolve_venue
from workflows.jobcache import JobCache, default_group_id
from workflows.loaders import load_options_file, parse_options_text
from workflows.options import VenueCleanupOptions
from workflows.phases.base import R1Phase
from workflows.r1 import R1Client
from workflows.r1ctx import wait

STEPS = ("passphrases", "deactivate", "networks", "pools", "identities", "identity_groups",
         "aps", "ap_groups")  # fmt: skip
KIND_OF_STEP = {"passphrases": "passphrases", "deactivate": "networks", "networks": "networks",
                "pools": "pools", "identities": "identity_groups",
                "identity_groups": "identity_groups", "aps": "ap_groups",
                "ap_groups": "ap_groups"}  # fmt: skip


def matches(opts: Any, name: str | None) -> bool:
    return bool(name) and fnmatch.fnmatchcase(name or "", opts.name_pattern)


def targets(step: str, opts: Any, inv: Inventory) -> list[Any]:
    vid = inv.venue_id
    if step in ("passphrases", "pools"):
        return [p for p in inv.pools.values() if matches(opts, p.name)]
    if step == "deactivate":
        return [n for n in inv.networks.values() if matches(opts, n.name) and active_on(n, vid)]
    if step == "networks":
        return [
            n
            for n in inv.networks.values()
            if matches(opts, n.name) and not any(active_on(n, v) for v in _venues(n) if v != vid)
        ]
    if step == "identities":
        return [g for g in inv.identity_groups.values() if matches(opts, g.name)
                and g.identity_count]  # fmt: skip
    if step == "identity_groups":
        return [g for g in inv.identity_groups.values() if matches(opts, g.name)]
    if step == "aps":
        groups = {g.id for g in inv.ap_groups.values() if matches(opts, g.name)}
        return [a for a in inv.aps.values() if a.ap_group_id in groups]
    if step == "ap_groups":
        return [g for g in inv.ap_groups.values() if matches(opts, g.name) and not g.is_default]
    return []


def _venues(net: Any) -> list[str]:
    from workflows.inventory import venue_ap_groups

    return [va.get("venueId") for va in venue_ap_groups(net) if va.get("venueId")]


class Step(R1Phase):
    def __init__(self, step: str) -> None:
        self.step = step

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        opts = ctx.options
        if KIND_OF_STEP[self.step] not in opts.kinds:
            return
        inv = await load_inventory(ctx.resources, opts.venue)
        if inv.venue is None:
            from engine.errors import PermanentError

            raise PermanentError(inv.venue_error or "venue not found")
        vid = inv.venue.id
        for t in targets(self.step, opts, inv):
            await self.delete(ctx, client, cache, vid, t)

    async def delete(self, ctx: Any, client: R1Client, cache: JobCache, vid: str, t: Any
                     ) -> None:  # fmt: skip
        s = self.step
        if s == "passphrases":
            ids = [p.id for p in await client.list_passphrases(t.id, page_size=5000)]
            for start in range(0, len(ids), 1000):
                await wait(ctx, client, await client.delete_passphrases(
                    t.id, ids[start : start + 1000]))  # fmt: skip
            if ids:
                ctx.record("passphrases", t.id, name=t.name, action="deleted",
                           data={"count": len(ids)})  # fmt: skip
            return
        if s == "identities":
            await self.delete_identities(ctx, client, t)
            return
        if s == "identity_groups" and t.identity_count:
            ctx.log(f"kept identity group {t.name}: it still holds {t.identity_count} "
                    "identities", level="warning")  # fmt: skip
            return
        if s == "deactivate":
            await wait(ctx, client, await client.deactivate_network(vid, t.id))
            ctx.record("activation", t.id, name=t.name, parent={"venue_id": vid},
                       action="deleted")  # fmt: skip
            return
        if s == "aps":
            target = await default_group_id(cache, client, vid)
            await wait(ctx, client, await client.assign_ap_to_group(vid, target, t.serial_number))
            ctx.record("ap", t.serial_number, parent={"venue_id": vid, "ap_group_id": target},
                       action="deleted")  # fmt: skip
            return
        call = {
            "networks": lambda: client.delete_wifi_network(t.id),
            "pools": lambda: client.delete_dpsk_pool(t.id),
            "identity_groups": lambda: client.delete_identity_group(t.id),
            "ap_groups": lambda: client.delete_ap_group(vid, t.id),
        }[s]
        await wait(ctx, client, await call())
        ctx.record(s.rstrip("s"), t.id, name=t.name, parent={"venue_id": vid}, action="deleted")

    async def delete_identities(self, ctx: Any, client: R1Client, group: Any) -> None:
        """The group's DPSK identities, once its pool (and so their passphrases) is gone."""
        if group.dpsk_pool_id and await client.get_dpsk_pool(group.dpsk_pool_id) is not None:
            ctx.log(f"kept the identities of {group.name}: its DPSK pool is still there")
            return
        ids = [i.id for i in await client.list_identities(group.id) if i.dpsk_guid]
        for start in range(0, len(ids), 1000):
            await wait(ctx, client, await client.delete_identities(
                group.id, ids[start : start + 1000]))  # fmt: skip
        if ids:
            ctx.record("identities", group.id, name=group.name, action="deleted",
                       data={"count": len(ids)})  # fmt: skip

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        inv: Inventory = ctx.inventory
        if inv is None or inv.venue is None:
            return PhasePlan(action="conflict", detail=inv.venue_error if inv else "no venue")
        if KIND_OF_STEP[self.step] not in ctx.options.kinds:
            return PhasePlan(action="skip", detail="kind not selected")
        found = targets(self.step, ctx.options, inv)
        if not found:
            return PhasePlan(action="skip", resource=self.step, detail="nothing matches")
        names = [getattr(t, "name", None) or getattr(t, "serial_number", "") for t in found]
        shown = ", ".join(str(n) for n in names[:5]) + (" ..." if len(names) > 5 else "")
        count = getattr(inv, "passphrase_counts", {})
        extra = ""
        if self.step == "passphrases":
            total = sum(count.get(t.id, 0) for t in found)
            extra = f" ({total} passphrase(s))"
        if self.step == "identities":
            extra = f" ({sum(t.identity_count or 0 for t in found)} identities)"
        return PhasePlan(
            action="delete",
            resource=self.step,
            calls=2 * len(found) + 1,
            detail=f"{len(found)} {self.step}{extra}: {shown}",
            data={"count": len(found)},
        )


async def inventory(ctx: PlanContext) -> Inventory:
    inv = await load_inventory(ctx.resources, ctx.options.venue)
    groups = inv.identity_groups  # one identity per passphrase: the group counts them
    inv.passphrase_counts = {  # type: ignore[attr-defined]
        p.id: int(getattr(groups.get(p.identity_group_id or ""), "identity_count", 0) or 0)
        for p in inv.pools.values()
    }
    return inv


class VenueCheck(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        venue = await resolve_venue(client, ctx.options.venue)
        return {"venue_id": venue.id}

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        inv: Inventory = ctx.inventory
        if inv is None or inv.venue is None:
            return PhasePlan(action="conflict", detail=inv.venue_error if inv else "no venue")
        return PhasePlan(action="reuse", resource="venue", name=inv.venue.name, calls=1)


def venue_cleanup() -> WorkflowSpec:
    phases: list[PhaseSpec] = [
        PhaseSpec(id="venue", title="Venue", executor=VenueCheck(), per_unit=False,
                  outputs=("venue_id",)),
    ]  # fmt: skip
    previous = "venue"
    for step in STEPS:
        phases.append(PhaseSpec(id=step, title=f"Delete {step.replace('_', ' ')}",
                                executor=Step(step), per_unit=False, depends_on=(previous,),
                                destructive=True))  # fmt: skip
        previous = step
    return WorkflowSpec(
        name="venue_cleanup",
        title="Venue cleanup",
        description="Deletes every resource whose name matches a pattern (AP groups of the "
        "venue, networks active there, DPSK pools, identity groups), in reverse order. "
        "No units: the pattern and the venue are options.",
        phases=tuple(phases),
        options_model=VenueCleanupOptions,
        inventory=inventory,
        destructive=True,
        confirm_text=lambda opts: opts.venue,
        parse_text=parse_options_text,
        extra={"load_input": load_options_file},
    )
