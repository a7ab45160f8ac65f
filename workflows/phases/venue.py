"""Global phase: resolve the venue (name or id) once for the whole job."""

from __future__ import annotations

from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.models import PhasePlan
from workflows.inventory import resolve_venue
from workflows.jobcache import JobCache
from workflows.phases.base import R1Phase
from workflows.r1 import R1Client


class VenuePhase(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        venue = await resolve_venue(client, ctx.options.venue)
        return {"venue_id": venue.id, "venue_name": venue.name or venue.id}

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        inv = ctx.inventory
        if inv is None or inv.venue is None:
            return PhasePlan(
                action="conflict",
                resource="venue",
                name=ctx.options.venue,
                detail=inv.venue_error if inv else "no inventory",
            )
        return PhasePlan(
            action="reuse",
            resource="venue",
            name=inv.venue.name,
            calls=1,
            waits=0,  # a read: nothing to wait for
            data={"id": inv.venue.id},
        )
