"""Per-unit activation of the unit's network on its AP group, throttled by each
AP group's remaining SSID budget (R1 broadcasts at most 15 SSIDs per group).

R1 activates per AP group in two steps (wifi_api): the network-venue relation
without groups (`PUT /venues/{v}/wifiNetworks/{n}` with `isAllApGroups:
false`, the only field VenueWifiNetwork has), then the group (`PUT
.../apGroups/{g}`, no body). The network phase makes the relation, so on a
first try this phase is one PUT: whether the group already broadcasts the
network and how many SSIDs it carries come from the plan, and the job's own
reservations keep its units under the budget. A retry (or a job without a
plan) reads the network and the venue's SSIDs again, and relates the network
to the venue itself if it still is not.
"""

from __future__ import annotations

from typing import Any

import anyio

from engine.context import PhaseContext, PlanContext
from engine.errors import PermanentError
from engine.models import PhasePlan
from workflows.inventory import Inventory, venue_ap_groups
from workflows.jobcache import JobCache, ssid_budget
from workflows.phases.base import R1Phase, conflict, create, reuse, unit_names, waits
from workflows.provenance import untagged_action
from workflows.r1 import R1Client
from workflows.r1ctx import wait


def venue_entry(net: Any, venue_id: str) -> dict[str, Any] | None:
    """The network's `venueApGroups` entry for the venue (None: not on the venue)."""
    return next((va for va in venue_ap_groups(net) if va.get("venueId") == venue_id), None)


def active_groups(net: Any, venue_id: str) -> tuple[bool, list[str]]:
    entry = venue_entry(net, venue_id)
    if entry is None:
        return False, []
    return bool(entry.get("isAllApGroups")), list(entry.get("apGroupIds") or [])


class ActivatePhase(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        plan = ctx.plan if ctx.first_try else None
        if plan is not None and "ssids_now" in (plan.data or {}):
            await self.from_plan(ctx, client, cache, plan)
            return
        venue_id = ctx.values["venue_id"]
        network_id, group_id = ctx.values["network_id"], ctx.values["ap_group_id"]
        limit = ctx.options.max_ssids_per_ap_group
        parent = {"venue_id": venue_id, "ap_group_id": group_id}
        net = await client.find_by_id(network_id)
        on_venue = net is not None and venue_entry(net, venue_id) is not None
        all_groups, groups = active_groups(net, venue_id) if net is not None else (False, [])
        budget = await ssid_budget(cache, client, venue_id)
        if all_groups or group_id in groups:
            budget.setdefault(group_id, set()).add(network_id)
            ctx.record("activation", network_id, parent=parent, action=untagged_action(ctx))
            return
        await self.reserve(cache, budget, group_id, network_id, limit)
        try:
            if not on_venue:
                await wait(ctx, client, await client.activate_on_venue(
                    venue_id, network_id, all_ap_groups=False))  # fmt: skip
            await wait(
                ctx, client, await client.activate_on_ap_group(venue_id, network_id, group_id)
            )
        except BaseException:
            budget.get(group_id, set()).discard(network_id)
            raise
        finally:
            cache.extra.setdefault("inflight", {}).get(group_id, set()).discard(network_id)
            self.wake(cache)
        ctx.record("activation", network_id, parent=parent)

    async def from_plan(
        self, ctx: PhaseContext, client: R1Client, cache: JobCache, plan: PhasePlan
    ) -> None:
        """One PUT: the plan says the group does not broadcast the network yet."""
        venue_id = ctx.values["venue_id"]
        network_id, group_id = ctx.values["network_id"], ctx.values["ap_group_id"]
        parent = {"venue_id": venue_id, "ap_group_id": group_id}
        if plan.action == "reuse":
            ctx.record("activation", network_id, parent=parent, action=untagged_action(ctx))
            return
        limit = ctx.options.max_ssids_per_ap_group
        held: dict[str, set[str]] = cache.extra.setdefault("ssids_planned", {})
        nets = held.setdefault(group_id, set())
        if network_id not in nets:
            used = int(plan.data["ssids_now"]) + len(nets)
            if used >= limit:
                raise PermanentError(
                    f"AP group {group_id} already broadcasts {used} SSIDs (R1 allows {limit})"
                )
            nets.add(network_id)
        try:
            await wait(
                ctx, client, await client.activate_on_ap_group(venue_id, network_id, group_id)
            )
        except BaseException:
            nets.discard(network_id)
            raise
        ctx.record("activation", network_id, parent=parent)

    async def reserve(
        self,
        cache: JobCache,
        budget: dict[str, set[str]],
        group_id: str,
        network_id: str,
        limit: int,
    ) -> None:
        """Claim an SSID of the group; wait while only in-flight activations fill it."""
        inflight: dict[str, set[str]] = cache.extra.setdefault("inflight", {})
        while True:
            nets = budget.setdefault(group_id, set())
            used = len(nets | cache.venue_wide)
            if used < limit:
                nets.add(network_id)
                inflight.setdefault(group_id, set()).add(network_id)
                return
            if not inflight.get(group_id):
                raise PermanentError(
                    f"AP group {group_id} already broadcasts {used} SSIDs (R1 allows {limit})"
                )
            event = cache.extra.get("ssid_event")
            if event is None:
                event = cache.extra["ssid_event"] = anyio.Event()
            await event.wait()

    def wake(self, cache: JobCache) -> None:
        event = cache.extra.pop("ssid_event", None)
        if event is not None:
            event.set()

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        names = unit_names(ctx)
        group, net = inv.group_by_name(names["ap_group"]), inv.network_by_name(names["network"])
        vid = inv.venue_id or ""
        if group is not None and net is not None:
            all_groups, groups = active_groups(net, vid)
            if all_groups or group.id in groups:
                plan = reuse(
                    "activation", names["network"], net.id, detail=f"on {names['ap_group']}"
                )
                plan.data["ssids_now"] = inv.ssid_count(group.id)
                return waits(plan, 0)
        planned: dict[str, int] = ctx.shared.setdefault("group_ssids", {})
        planned[names["ap_group"]] = planned.get(names["ap_group"], 0) + 1
        now = inv.ssid_count(group.id) if group is not None else inv.venue_wide_ssids()
        limit = ctx.options.max_ssids_per_ap_group
        if now + planned[names["ap_group"]] > limit:
            return conflict(
                "activation",
                names["ap_group"],
                f"AP group would broadcast over {limit} SSIDs "
                f"({now} now, {planned[names['ap_group']]} planned)",
            )
        plan = create("activation", names["network"], detail=f"on {names['ap_group']}", calls=1)
        plan.data = {"ssids_now": now}
        return waits(plan, 1)
