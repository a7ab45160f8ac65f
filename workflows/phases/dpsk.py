"""Per-unit identity group and its DPSK pool (find by name, else create)."""

from __future__ import annotations

from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.errors import PermanentError
from engine.models import PhasePlan
from workflows.inventory import Inventory
from workflows.jobcache import JobCache
from workflows.phases.base import (
    R1Phase,
    bad_name,
    claim,
    conflict,
    create,
    reuse,
    unit_names,
    waits,
)
from workflows.r1 import R1Client
from workflows.r1ctx import find_or_create


class IdentityGroupPhase(R1Phase):
    def name_of(self, ctx: Any) -> str:
        return unit_names(ctx)["identity_group"]

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        name = self.name_of(ctx)

        async def find() -> Any:  # R1 searches substrings: the exact name is matched here
            return await client.find_identity_group(name)

        found = await find_or_create(
            ctx, client, locks=cache.extra.setdefault("locks", {}),
            resource="identity_group", name=name, find=find,
            create=lambda tag: client.create_identity_group(name, description=tag),
        )  # fmt: skip
        return {"identity_group_id": found.id}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        name = self.name_of(ctx)
        if (too_long := bad_name("identity_group", name)) is not None:
            return too_long
        existing = inv.identity_by_name(name)
        if existing is not None:
            return waits(reuse("identity_group", name, existing.id), 0)
        other = claim(ctx, "identity_group", name)
        if other is not None:
            return waits(reuse("identity_group", name, None, detail=f"shared with unit {other}"), 1)
        return waits(create("identity_group", name), 1)


def pool_settings(opts: Any) -> dict[str, Any]:
    p = opts.passphrases
    return {
        "passphrase_format": p.format,
        "passphrase_length": p.length,
        "expiration_type": p.expiration_type,
        "device_count_limit": p.device_limit,
    }


class DpskPoolPhase(R1Phase):
    def name_of(self, ctx: Any) -> str:
        return unit_names(ctx)["pool"]

    def settings(self, ctx: Any) -> dict[str, Any]:
        return pool_settings(ctx.options)

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        pool_id = await ensure_pool(
            ctx, client, self.name_of(ctx), ctx.values["identity_group_id"], self.settings(ctx),
            locks=cache.extra.setdefault("locks", {}),
        )  # fmt: skip
        return {"pool_id": pool_id}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        name = self.name_of(ctx)
        if (too_long := bad_name("dpsk_pool", name)) is not None:
            return too_long
        existing = inv.pool_by_name(name)
        group = inv.identity_by_name(self.group_name(ctx))
        other = claim(ctx, "pool", name)
        if existing is None and other is not None:
            return waits(reuse("dpsk_pool", name, None, detail=f"shared with unit {other}"), 1)
        if existing is None:
            if group is not None and group.dpsk_pool_id in inv.pools:
                return conflict("dpsk_pool", name, "its identity group already has another pool")
            return waits(create("dpsk_pool", name), 1)
        if group is None or existing.identity_group_id != group.id:
            return conflict("dpsk_pool", name, "a pool of that name belongs to another group")
        return waits(reuse("dpsk_pool", name, existing.id), 0)

    def group_name(self, ctx: Any) -> str:
        return unit_names(ctx)["identity_group"]


def require(values: dict[str, Any], key: str) -> Any:
    if key not in values:
        raise PermanentError(f"missing {key} (an upstream phase did not provide it)")
    return values[key]


async def ensure_pool(
    ctx: PhaseContext,
    client: R1Client,
    name: str,
    group_id: str,
    settings: dict[str, Any],
    *,
    locks: dict[str, Any] | None = None,
) -> str:
    """Find the DPSK pool by name (it must sit under `group_id`) or create it there."""

    async def find() -> Any:  # R1 searches substrings: the exact name is matched here
        return await client.find_dpsk_pool(name)

    def check(pool: Any) -> str | None:
        if pool.identity_group_id and pool.identity_group_id != group_id:
            return "it belongs to another identity group"
        return None

    found = await find_or_create(
        ctx, client, locks=locks, resource="dpsk_pool", name=name, find=find, check=check,
        create=lambda _tag: client.create_dpsk_pool(group_id, name, **settings),
        parent={"identity_group_id": group_id},
    )  # fmt: skip
    return found.id
