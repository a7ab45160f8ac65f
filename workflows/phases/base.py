"""The shape every R1 phase executor shares: client, job cache, metering and
the options' per-phase concurrency, around a `do(ctx, client, cache)`."""

from __future__ import annotations

from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.models import PhasePlan
from workflows.inventory import Inventory
from workflows.jobcache import JobCache, cache_for, limiter
from workflows.naming import name_problem, names
from workflows.r1 import SECURITY_BY_INPUT, R1Client
from workflows.r1ctx import client_of, metered

CREATE_CALLS = 1  # the create (the plan was the read; the activity poll is shared)
REUSE_CALLS = 0  # the plan's id is used as is
NAME_FIELD = {"dpsk_pool": "pool"}  # resource -> its naming template


class R1Phase:
    """Subclasses implement `do` (and `plan_unit` for Phase 0)."""

    async def run(self, ctx: PhaseContext) -> dict[str, Any] | None:
        client = client_of(ctx.resources)
        cache = cache_for(client, ctx.job_id)
        concurrency = getattr(ctx.options, "concurrency", None)
        lim = limiter(cache, ctx.phase.id, concurrency.of(ctx.phase.id) if concurrency else None)
        with metered(ctx):
            if lim is None:
                return await self.do(ctx, client, cache)
            async with lim:
                return await self.do(ctx, client, cache)

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> Any:
        raise NotImplementedError

    async def plan(self, ctx: PlanContext) -> PhasePlan | None:
        inv: Inventory = ctx.inventory
        if inv is None or inv.venue is None:
            return PhasePlan(action="conflict", detail=inv.venue_error if inv else "no inventory")
        return self.plan_unit(ctx, inv)

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        return PhasePlan(action="run", calls=1)


def unit_names(ctx: Any) -> dict[str, str]:
    opts = ctx.options
    return names(opts.naming, ctx.unit, getattr(opts, "venue", ""))


def security_of(unit: Any, opts: Any) -> str:
    st = getattr(unit, "security_type", None)
    value = st.value if st is not None and hasattr(st, "value") else (st or opts.security_type)
    return SECURITY_BY_INPUT[str(value)]


def vlan_of(unit: Any, opts: Any) -> int:
    return getattr(unit, "default_vlan", None) or getattr(opts, "default_vlan", None) or 1


def claim(ctx: PlanContext, kind: str, name: str) -> str | None:
    """Note that this unit plans `name`; returns the unit that claimed it first."""
    claims: dict[str, str] = ctx.shared.setdefault(f"claims:{kind}", {})
    first = claims.setdefault(name, ctx.unit_key or "")
    return None if first == ctx.unit_key else first


def bad_name(resource: str, name: str) -> PhasePlan | None:
    """A conflict when a rendered name breaks R1's length limits (caught before a run)."""
    problem = name_problem(NAME_FIELD.get(resource, resource), name)
    return None if problem is None else conflict(resource, name, problem)


def create(
    resource: str, name: str, detail: str | None = None, calls: int = CREATE_CALLS
) -> PhasePlan:
    return PhasePlan(action="create", resource=resource, name=name, calls=calls, detail=detail)


def reuse(
    resource: str, name: str, rid: str | None, detail: str | None = None, calls: int | None = None
) -> PhasePlan:
    """Reuse `rid` as the plan found it (no call); without an id (another unit of
    the job makes it) the run looks it up by name: one call."""
    return PhasePlan(
        action="reuse",
        resource=resource,
        name=name,
        calls=calls if calls is not None else (REUSE_CALLS if rid else 1),
        detail=detail,
        data={"id": rid} if rid else {},
    )


def waits(plan: PhasePlan, n: int) -> PhasePlan:
    """`plan` with the activities its run waits for one after another (H4's estimate)."""
    plan.waits = n
    return plan


def conflict(resource: str, name: str | None, detail: str) -> PhasePlan:
    return PhasePlan(action="conflict", resource=resource, name=name, detail=detail)
