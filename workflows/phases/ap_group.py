"""Per-unit AP group in the venue (find by name, else create).

R1 answers an AP group's creation with a requestId only (see
`workflows.r1.resources.venues`): the new group's id is read by name after
its activity, which `find_or_create` does when the answer has no id.
"""

from __future__ import annotations

from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.models import PhasePlan
from workflows.inputs.unit_checks import ap_group_problems
from workflows.inventory import Inventory
from workflows.jobcache import JobCache
from workflows.phases.base import R1Phase, claim, conflict, create, reuse, unit_names
from workflows.r1 import R1Client
from workflows.r1ctx import find_or_create


class ApGroupPhase(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        venue_id = ctx.values["venue_id"]
        name = unit_names(ctx)["ap_group"]

        async def find() -> Any:
            return await client.find_ap_group(venue_id, name)

        found = await find_or_create(
            ctx, client, locks=cache.extra.setdefault("locks", {}),
            resource="ap_group", name=name, find=find,
            create=lambda tag: client.create_ap_group(venue_id, name, description=tag),
            parent={"venue_id": venue_id},
        )  # fmt: skip
        return {"ap_group_id": found.id}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        name = unit_names(ctx)["ap_group"]
        if problems := ap_group_problems(name):
            plan = conflict("ap_group", name, "; ".join(p.text() for p in problems))
            plan.data = {"fields": [p.field for p in problems]}
            return plan
        existing = inv.group_by_name(name)
        if existing is not None:
            return reuse("ap_group", name, existing.id)
        other = claim(ctx, "ap_group", name)
        if other is not None:
            return reuse("ap_group", name, None, detail=f"shared with unit {other}")
        return create("ap_group", name)
