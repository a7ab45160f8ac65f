"""Cleanup of a finished job: delete exactly what its ledger says it created,
in reverse dependency order.

    passphrases (global, bulk) -> per unit: lan_ports -> deactivate -> networks
      -> pools -> identity_groups -> aps (back to their group) -> ap_groups
    -> job-wide resources (global, last)

Deleting a network also unbinds its DPSK pool (R1 has no separate unbind
call), so "unbind" happens with the network deletion. Every step checks the
resource still exists first, so a re-run (or retry) deletes nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.models import CleanupRequest, CleanupSource, PhasePlan
from engine.spec import PhaseSpec, WorkflowSpec
from workflows.inventory import venue_ap_groups
from workflows.jobcache import JobCache, default_group_id
from workflows.options import CleanupItem, CleanupOptions, CleanupUnit
from workflows.phases.base import R1Phase
from workflows.r1 import R1ActivityFailed, R1Client, R1NotFound
from workflows.r1ctx import first, wait

DELETE_CHUNK = 1000
UNIT_ORDER = ("lan_ports", "deactivate", "networks", "pools", "identity_groups", "aps", "ap_groups")
KIND_OF_PHASE = {
    "lan_ports": "lan_ports",
    "deactivate": "activation",
    "networks": "network",
    "pools": "dpsk_pool",
    "identity_groups": "identity_group",
    "aps": "ap",
    "ap_groups": "ap_group",
}
GLOBAL_ORDER = ("activation", "binding", "network", "dpsk_pool", "identity_group", "ap", "ap_group")


def cleanup_from_ledger(source: CleanupSource) -> CleanupRequest:
    """The cleanup job of any R1 workflow's job: only what it created."""
    seen: set[tuple[str, str, str | None]] = set()
    units: dict[str, list[CleanupItem]] = defaultdict(list)
    passphrases: dict[str, list[str]] = defaultdict(list)
    global_items: list[CleanupItem] = []
    venue_id = None
    users: dict[tuple[str, str], set[str | None]] = defaultdict(set)
    for e in source.ledger:  # a resource several units use (a shared pool) goes last
        users[(e.resource, e.id)].add(e.unit)
    for e in source.ledger:
        if e.action != "created":
            continue
        venue_id = venue_id or e.parent.get("venue_id")
        key = (e.resource, e.id, e.parent.get("ap_group_id"))
        if key in seen:
            continue
        seen.add(key)
        if e.resource == "passphrase":
            passphrases[e.parent.get("pool_id", "")].append(e.id)
            continue
        item = CleanupItem(kind=e.resource, id=e.id, name=e.name, parent=e.parent)
        if e.unit is None or len(users[(e.resource, e.id)]) > 1:
            global_items.append(item)
        else:
            units[e.unit].append(item)
    order = {k: i for i, k in enumerate(source.unit_keys)}
    cleanup_units = [
        CleanupUnit(unit=u, items=items).model_dump()
        for u, items in sorted(units.items(), key=lambda kv: order.get(kv[0], 1 << 30))
    ]
    options = CleanupOptions(
        venue=str(source.options.get("venue") or "Sim Venue"),
        venue_id=venue_id,
        source_job=source.job_id,
        passphrases=dict(passphrases),
        global_items=global_items,
    )
    return CleanupRequest(
        workflow="r1_cleanup", units=cleanup_units, options=options.model_dump(),
        title=f"cleanup of {source.job_id} ({source.workflow})",
    )  # fmt: skip


# -- deleting one kind ---------------------------------------------------------


async def _gone_ok(ctx: Any, client: R1Client, accepted: Any) -> None:
    try:
        await wait(ctx, client, accepted)
    except R1ActivityFailed as exc:
        if "not found" not in str(exc).lower():
            raise


async def delete_item(
    ctx: Any, client: R1Client, cache: JobCache, item: CleanupItem, venue_id: str | None
) -> bool:
    """Delete (or undo) one item if it is still there; True if a write was made."""
    k, p = item.kind, item.parent
    vid = p.get("venue_id") or venue_id or ""
    try:
        if k == "lan_ports":
            await _gone_ok(ctx, client, await client.set_ap_lan_port_override(
                vid, item.id, use_venue_settings=True))  # fmt: skip
        elif k == "activation":
            net = await first(client.iter_wifi_networks(filters={"id": [item.id]}))
            if net is None:
                return False
            entry = next((va for va in venue_ap_groups(net) if va.get("venueId") == vid), None)
            if entry is None:
                return False
            rest = [g for g in entry.get("apGroupIds") or [] if g != p.get("ap_group_id")]
            if rest and not entry.get("isAllApGroups"):
                await wait(
                    ctx, client, await client.activate_network(vid, item.id, ap_group_ids=rest)
                )
            else:
                await _gone_ok(ctx, client, await client.deactivate_network(vid, item.id))
        elif k == "binding":
            return False  # undone by the network's deletion (R1 has no unbind call)
        elif k == "network":
            if await first(client.iter_wifi_networks(filters={"id": [item.id]})) is None:
                return False
            await _gone_ok(ctx, client, await client.delete_wifi_network(item.id))
        elif k == "dpsk_pool":
            if await first(client.iter_dpsk_pools(filters={"id": [item.id]})) is None:
                return False
            await _gone_ok(ctx, client, await client.delete_dpsk_pool(item.id))
        elif k == "identity_group":
            if await first(client.iter_identity_groups(filters={"id": [item.id]})) is None:
                return False
            await _gone_ok(ctx, client, await client.delete_identity_group(item.id))
        elif k == "ap":
            ap = await first(client.iter_aps(serials=[item.id]))
            if ap is None or ap.ap_group_id != p.get("ap_group_id"):
                return False
            target = p.get("from_group_id") or ""
            key = f"groups:{vid}"
            if key not in cache.extra:  # groups that existed before the job: read once
                cache.extra[key] = {g.id for g in await client.list_ap_groups(venue_id=vid)}
            if target not in cache.extra[key]:
                target = await default_group_id(cache, client, vid)
            await wait(ctx, client, await client.assign_ap_to_group(vid, target, item.id))
        elif k == "ap_group":
            groups = await client.list_ap_groups(venue_id=vid, filters={"id": [item.id]})
            if not groups:
                return False
            await _gone_ok(ctx, client, await client.delete_ap_group(vid, item.id))
        else:
            return False
    except R1NotFound:
        return False
    ctx.record(k, item.id, name=item.name, parent=p, action="deleted")
    return True


class DeleteKind(R1Phase):
    """Per cleanup unit: delete the unit's items of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        for item in ctx.unit.items:
            if item.kind == self.kind:
                await delete_item(ctx, client, cache, item, ctx.options.venue_id)

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        items = [i for i in ctx.unit.items if i.kind == self.kind]
        if not items:
            return PhasePlan(action="skip", resource=self.kind)
        names = ", ".join(i.name or i.id for i in items[:3])
        return PhasePlan(
            action="delete",
            resource=self.kind,
            calls=2 * len(items),
            name=names,
            detail=f"{len(items)} {self.kind}",
        )


class DeletePassphrases(R1Phase):
    """Global: the job's passphrases, one bulk delete per pool and 1,000 ids."""

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        for pool_id, ids in ctx.options.passphrases.items():
            if await first(client.iter_dpsk_pools(filters={"id": [pool_id]})) is None:
                continue
            present = {p.id for p in await client.list_passphrases(pool_id)}
            todo = [i for i in ids if i in present]
            for start in range(0, len(todo), DELETE_CHUNK):
                chunk = todo[start : start + DELETE_CHUNK]
                await wait(ctx, client, await client.delete_passphrases(pool_id, chunk))
                ctx.log(f"deleted {start + len(chunk)}/{len(todo)} passphrases of {pool_id}")
            ctx.incr("passphrases_deleted", len(todo))

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        n = sum(len(v) for v in ctx.options.passphrases.values())
        if not n:
            return PhasePlan(action="skip", resource="passphrase")
        calls = sum(2 + -(-len(v) // DELETE_CHUNK) for v in ctx.options.passphrases.values())
        return PhasePlan(
            action="delete",
            resource="passphrase",
            calls=calls,
            detail=f"{n} passphrase(s) in {len(ctx.options.passphrases)} pool(s)",
        )


class DeleteGlobals(R1Phase):
    """Global, last: job-wide resources (e.g. a migration's pool and group)."""

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        items = sorted(
            ctx.options.global_items,
            key=lambda i: GLOBAL_ORDER.index(i.kind) if i.kind in GLOBAL_ORDER else 99,
        )
        for item in items:
            await delete_item(ctx, client, cache, item, ctx.options.venue_id)

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        items = ctx.options.global_items
        if not items:
            return PhasePlan(action="skip")
        return PhasePlan(
            action="delete",
            calls=2 * len(items),
            detail=", ".join(f"{i.kind} {i.name or i.id}" for i in items),
        )


def r1_cleanup() -> WorkflowSpec:
    phases: list[PhaseSpec] = [
        PhaseSpec(
            id="passphrases",
            title="Delete passphrases",
            executor=DeletePassphrases(),
            per_unit=False,
            destructive=True,
        ),
    ]
    previous = "passphrases"
    for pid in UNIT_ORDER:
        phases.append(
            PhaseSpec(
                id=pid,
                title=f"Delete {pid.replace('_', ' ')}",
                executor=DeleteKind(KIND_OF_PHASE[pid]),
                depends_on=(previous,),
                destructive=True,
            )
        )
        previous = pid
    phases.append(
        PhaseSpec(
            id="globals",
            title="Delete job-wide resources",
            executor=DeleteGlobals(),
            per_unit=False,
            depends_on=(previous,),
            destructive=True,
        )
    )
    return WorkflowSpec(
        name="r1_cleanup",
        title="Cleanup",
        description="Deletes what one job created (from its ledger), in reverse order.",
        phases=tuple(phases),
        unit_model=CleanupUnit,
        options_model=CleanupOptions,
        destructive=True,
        confirm_text=lambda opts: opts.venue,
    )
