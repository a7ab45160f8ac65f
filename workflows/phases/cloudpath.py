"""Cloudpath DPSK migration phases: the pool side is global (one identity group,
one DPSK pool, an optional network binding); each exported passphrase is a
unit whose cell goes through the chunked CSV batcher."""

from __future__ import annotations

from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.errors import PermanentError, TransientError
from engine.models import PhasePlan
from workflows.batching import batcher_for
from workflows.inventory import Inventory
from workflows.jobcache import JobCache
from workflows.phases.base import R1Phase, conflict, create, reuse
from workflows.phases.dpsk import ensure_pool
from workflows.phases.network import bind_pool, differences
from workflows.provenance import untagged_action
from workflows.r1 import PassphraseRow, R1Client, raise_for_activity
from workflows.r1ctx import find_or_create, first

MAX_NETWORKS_PER_POOL = 64


def pool_name(opts: Any) -> str:
    if opts.pool_name:
        return opts.pool_name
    if opts.pool is not None:
        return opts.pool.display_name
    raise PermanentError("no pool name: set options.pool_name or pass the export's pool")


def group_name(opts: Any) -> str:
    return opts.identity_group or pool_name(opts)


def pool_kwargs(opts: Any) -> dict[str, Any]:
    pool = opts.pool
    length = pool.phrase_default_length if pool and pool.phrase_default_length else None
    limit = opts.device_limit
    if limit is None and pool is not None and pool.enforce_device_count_limit:
        limit = pool.device_count_limit
    return {
        "passphrase_format": opts.passphrase_format,
        "passphrase_length": max(8, min(63, length or opts.passphrase_length)),
        "device_count_limit": limit,
    }


class CpIdentityGroup(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        name = group_name(ctx.options)

        async def find() -> Any:  # R1 searches substrings: the exact name is matched here
            return await client.find_identity_group(name)

        found = await find_or_create(
            ctx,
            client,
            resource="identity_group",
            name=name,
            find=find,
            create=lambda tag: client.create_identity_group(name, description=tag),
        )
        return {"identity_group_id": found.id}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        name = group_name(ctx.options)
        existing = inv.identity_by_name(name)
        return (
            reuse("identity_group", name, existing.id)
            if existing
            else create("identity_group", name)
        )


class CpPool(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        group_id = ctx.values["identity_group_id"]
        pool_id = await ensure_pool(
            ctx, client, pool_name(ctx.options), group_id, pool_kwargs(ctx.options)
        )
        return {"pool_id": pool_id}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        name = pool_name(ctx.options)
        existing = inv.pool_by_name(name)
        if existing is None:
            return create("dpsk_pool", name)
        group = inv.identity_by_name(group_name(ctx.options))
        if group is None or existing.identity_group_id != group.id:
            return conflict("dpsk_pool", name, "a pool of that name belongs to another group")
        return reuse("dpsk_pool", name, existing.id)


def no_network(opts: Any, _unit: Any) -> bool:
    return not opts.network_name


class CpNetwork(R1Phase):
    def ssid(self, opts: Any) -> str:
        return opts.ssid or opts.network_name

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        opts = ctx.options
        name, ssid = opts.network_name, self.ssid(opts)

        async def find() -> Any:
            return await first(client.iter_wifi_networks(filters={"name": [name]}))

        def check(net: Any) -> str | None:
            return differences(
                net,
                kind="dpsk",
                ssid=ssid,
                security=net.wlan.wlan_security if net.wlan else "WPA2Personal",
                vlan=1,
                passphrase=None,
            )

        found = await find_or_create(
            ctx, client, resource="network", name=name, find=find, check=check,
            create=lambda tag: client.create_wifi_network(
                name, ssid, network_type="dpsk", description=tag),
        )  # fmt: skip
        return {"network_id": found.id}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        name = ctx.options.network_name
        existing = inv.network_by_name(name)
        if existing is None:
            return create("network", name)
        if existing.type != "dpsk":
            return conflict("network", name, f"exists as a {existing.type} network")
        why = differences(  # the run's check, here: a first try reuses the plan's id as is
            existing, kind="dpsk", ssid=self.ssid(ctx.options),
            security=existing.wlan.wlan_security if existing.wlan else "WPA2Personal",
            vlan=1, passphrase=None,
        )  # fmt: skip
        if why:
            return conflict("network", name, f"exists with different settings: {why}")
        return reuse("network", name, existing.id)


class CpBind(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        await bind_pool(ctx, client, ctx.values["network_id"], ctx.values["pool_id"])

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        pool = inv.pool_by_name(pool_name(ctx.options))
        if pool is not None and (pool.network_count or 0) >= MAX_NETWORKS_PER_POOL:
            return conflict(
                "binding", pool.name, f"pool already serves {pool.network_count} networks "
                f"(R1 allows {MAX_NETWORKS_PER_POOL})",
            )  # fmt: skip
        net = inv.network_by_name(ctx.options.network_name)
        if net is not None and pool is not None and (pool.network_count or 0) >= 1:
            # R1 says how many networks a pool serves, not which: the run's PUT is
            # idempotent and tells (networkCount grows only if it was not bound).
            detail = f"pool serves {pool.network_count} network(s); bind is idempotent"
            return reuse("binding", net.name or "", net.id, detail=detail, calls=3)
        return create("binding", ctx.options.network_name, calls=1)  # no count to read


def skip_revoked(opts: Any, unit: Any) -> bool:
    return (unit.status or "").upper() == "REVOKED" and not opts.include_revoked


def row_of(unit: Any) -> PassphraseRow:
    expires = unit.expiration_date_time
    return PassphraseRow(
        username=unit.name,
        passphrase=unit.passphrase,
        vlan_id=unit.vlan_id,
        expiration_date=expires.isoformat() if expires else None,
        number_of_devices=unit.device_count_limit if unit.use_device_count_limit else None,
    )


class CpPassphrase(R1Phase):
    """One exported passphrase: reuse by username, else join the next CSV chunk."""

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        pool_id, opts = ctx.values["pool_id"], ctx.options
        batcher = batcher_for(cache.extra, client, pool_id, chunk_size=opts.chunk_size,
                              linger=opts.linger)  # fmt: skip
        existing = await batcher.existing_usernames()
        parent = {"pool_id": pool_id}
        name = ctx.unit.name
        if name in existing:
            ctx.record("passphrase", existing[name], name=name, parent=parent,
                       action=untagged_action(ctx))  # fmt: skip
            return
        vid = batcher.enqueue(row_of(ctx.unit))
        result = await ctx.wait_activity(batcher, vid)
        calls, limited = batcher.take_calls()
        if calls:
            ctx.incr("r1_calls", calls)
            ctx.incr(f"r1_calls:{ctx.phase.id}", calls)
        for _ in range(limited):
            ctx.rate_limited(None)
        if result.status == "FAIL":
            kind = result.data.get("kind")
            if kind == "r1":
                raise_for_activity(result)
            raise TransientError(str(result.data.get("message") or "passphrase import failed"))
        action = untagged_action(ctx) if result.data.get("adopted") else "created"
        ctx.record("passphrase", result.data["id"], name=name, parent=parent, action=action)
        chunk = result.data.get("chunk")
        if chunk:
            ctx.log(
                f"CSV import of {chunk['rows']} passphrases done "
                f"({chunk['done']} imported, {chunk['imports']} import call(s) so far)",
                **chunk,
            )

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        inv: Inventory = ctx.inventory
        if inv is None or inv.venue is None:
            return PhasePlan(action="conflict", detail=inv.venue_error if inv else "no inventory")
        existing: dict[str, str] = getattr(inv, "passphrases", {}) or {}
        if ctx.unit.name in existing:
            return reuse("passphrase", ctx.unit.name, existing[ctx.unit.name], calls=0)
        n = ctx.shared["new_passphrases"] = ctx.shared.get("new_passphrases", 0) + 1
        chunk = ctx.options.chunk_size
        calls = 3 if n % chunk == 1 or chunk == 1 else 0  # import + poll + read back
        return PhasePlan(
            action="create",
            resource="passphrase",
            name=ctx.unit.name,
            calls=calls,
            detail="CSV import (chunked)",
        )
