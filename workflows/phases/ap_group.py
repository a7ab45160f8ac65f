"""Per-unit AP group in the venue, created WITH the unit's APs.

R1 takes the APs at creation (VenueApGroup `apSerialNumbers`, moved from
whatever group of the venue they sit in) and answers the new id (see
`workflows.r1.resources.venues`), so a planned group costs one write and no
read; `assign_aps` then has nothing to move. The APs moved in are recorded
here with the group they came from (cleanup moves them back first).
"""

from __future__ import annotations

from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.models import PhasePlan
from workflows.inputs.unit_checks import ap_group_problems
from workflows.inventory import Inventory
from workflows.jobcache import JobCache
from workflows.phases.base import R1Phase, claim, conflict, create, reuse, unit_names, waits
from workflows.r1 import R1Client
from workflows.r1ctx import find_or_create


class ApGroupPhase(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        venue_id = ctx.values["venue_id"]
        name = unit_names(ctx)["ap_group"]

        async def find() -> Any:
            return await client.find_ap_group(venue_id, name)

        moves: dict[str, str] = dict((ctx.plan.data if ctx.plan else {}).get("aps_from") or {})
        made: list[bool] = []

        async def create(tag: str | None) -> Any:
            made.append(True)
            return await client.create_ap_group(
                venue_id, name, description=tag, ap_serials=list(moves)
            )

        found = await find_or_create(
            ctx, client, locks=cache.extra.setdefault("locks", {}),
            resource="ap_group", name=name, find=find, create=create,
            parent={"venue_id": venue_id},
        )  # fmt: skip
        with_aps = bool(made) and found.action == "created" and bool(moves)
        if with_aps:
            for serial, from_group in moves.items():
                parent = {"venue_id": venue_id, "ap_group_id": found.id,
                          "from_group_id": from_group}  # fmt: skip
                ctx.record("ap", serial, parent=parent)
        return {"ap_group_id": found.id, "ap_group_with_aps": with_aps}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        name = unit_names(ctx)["ap_group"]
        if problems := ap_group_problems(name):
            plan = conflict("ap_group", name, "; ".join(p.text() for p in problems))
            plan.data = {"fields": [p.field for p in problems]}
            return plan
        existing = inv.group_by_name(name)
        if existing is not None:
            return waits(reuse("ap_group", name, existing.id, calls=0), 0)
        other = claim(ctx, "ap_group", name)
        if other is not None:
            return waits(reuse("ap_group", name, None, detail=f"shared with unit {other}"), 1)
        plan = waits(create("ap_group", name, calls=1), 1)
        aps = [inv.ap(i) for i in ctx.unit.ap_serials]
        plan.data = {"aps_from": {a.serial_number: a.ap_group_id or "" for a in aps if a}}
        return plan
