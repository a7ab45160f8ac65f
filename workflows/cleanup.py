"""Cleanup of a finished job: delete exactly what its ledger proves it created
(see `cleanup_select`: the rest is kept and the plan says so), in reverse
dependency order.

    passphrases (global, bulk) -> their identities (global, bulk) -> per unit:
      lan_ports -> deactivate -> networks -> pools -> identity_groups
      -> aps (back to their group) -> ap_groups -> job-wide resources (global, last)

R1 keeps one identity per DPSK passphrase in the pool's identity group, and a
group holding identities cannot be deleted: the identities of the passphrases
the job created (and only those) go before any group.

Deleting a network also unbinds its DPSK pool (R1 has no separate unbind
call), so "unbind" happens with the network deletion. Every step checks the
resource still exists first, so a re-run (or retry) deletes nothing twice.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.errors import TransientError
from engine.models import PhasePlan
from engine.spec import PhaseSpec, WorkflowSpec
from workflows.cleanup_select import by_username, cleanup_from_ledger, kept_line, owned
from workflows.inventory import venue_ap_groups
from workflows.jobcache import JobCache, default_group_id
from workflows.options import CleanupItem, CleanupOptions, CleanupUnit
from workflows.phases.base import R1Phase
from workflows.provenance import carries_tag
from workflows.r1 import R1ActivityFailed, R1Client, R1NotFound
from workflows.r1ctx import client_of, first, wait

__all__ = ["cleanup_from_ledger", "r1_cleanup"]

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


# -- deleting one kind ---------------------------------------------------------


async def _gone_ok(ctx: Any, client: R1Client, accepted: Any) -> None:
    try:
        await wait(ctx, client, accepted)
    except R1ActivityFailed as exc:
        if "not found" not in str(exc).lower():
            raise


async def read_tagged(client: R1Client, item: CleanupItem, venue_id: str) -> Any:
    """R1's answer for an item of a kind phasegrid tags (None: gone)."""
    if item.kind == "network":
        return await first(client.iter_wifi_networks(filters={"id": [item.id]}))
    if item.kind == "identity_group":
        return await client.get_identity_group(item.id)
    if item.kind == "ap_group":
        return await first(client.iter_ap_groups(venue_id=venue_id, filters={"id": [item.id]}))
    return None


async def proven(client: R1Client, item: CleanupItem, venue_id: str, job_id: str) -> bool:
    """For an item of unknown origin: does R1 show the source job's tag on it?"""
    found = await read_tagged(client, item, venue_id)
    return found is not None and carries_tag(found, item.kind, job_id)


async def delete_item(
    ctx: Any, client: R1Client, cache: JobCache, item: CleanupItem, venue_id: str | None
) -> bool:
    """Delete (or undo) one item if it is still there; True if a write was made.
    A kept item is never touched; one of unknown origin only if R1 shows our tag."""
    k, p = item.kind, item.parent
    vid = p.get("venue_id") or venue_id or ""
    if item.keep is not None:
        return False
    job_id = getattr(ctx.options, "source_job", None) or ""
    if item.verify and not await proven(client, item, vid, job_id):
        ctx.log(f"kept {k} {item.name or item.id}: no tag of job {job_id} on it")
        return False
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
            net = await read_tagged(client, item, vid)
            if net is None:
                return False
            entry = next((va for va in venue_ap_groups(net) if va.get("venueId") == vid), None)
            if (
                entry is not None and not entry.get("isAllApGroups") and not entry.get("apGroupIds")
            ):  # related by the network phase, no group activated: R1 refuses the delete
                await _gone_ok(ctx, client, await client.deactivate_network(vid, item.id))
            await _gone_ok(ctx, client, await client.delete_wifi_network(item.id))
        elif k == "dpsk_pool":
            if await client.get_dpsk_pool(item.id) is None:
                return False
            await _gone_ok(ctx, client, await client.delete_dpsk_pool(item.id))
        elif k == "identity_group":
            if await read_tagged(client, item, vid) is None:
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
            if await read_tagged(client, item, vid) is None:
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
        todo, notes = await sort_out(ctx, items)
        if not todo:
            return PhasePlan(action="skip", resource=self.kind, detail="; ".join(notes),
                             data={"kept": len(items)})  # fmt: skip
        return PhasePlan(
            action="delete",
            resource=self.kind,
            calls=2 * len(todo),
            name=", ".join(i.name or i.id for i in todo[:3]),
            detail="; ".join([f"{len(todo)} {self.kind}", *notes]),
            data={"kept": len(items) - len(todo)} if notes else {},
        )


async def sort_out(
    ctx: PlanContext, items: list[CleanupItem]
) -> tuple[list[CleanupItem], list[str]]:
    """The items the cleanup deletes, and one "keep ..." note per kept item (first 3).

    An item of unknown origin is checked against R1 now (our tag on it or not);
    the run checks again before deleting."""
    todo: list[CleanupItem] = []
    kept: list[CleanupItem] = []
    for item in items:
        if item.keep is None and item.verify:
            vid = item.parent.get("venue_id") or ctx.options.venue_id or ""
            job_id = ctx.options.source_job or ""
            if not await proven(client_of(ctx.resources), item, vid, job_id):
                item = item.model_copy(update={"keep": "not proven created by this job (no tag)"})
        (todo if item.keep is None else kept).append(item)
    notes = [f"keep {i.kind} {i.name or i.id}: {i.keep}" for i in kept[:3]]
    if len(kept) > 3:
        notes.append(f"keep {len(kept) - 3} more")
    return todo, notes


async def for_each_owner(
    what: str, owners: Mapping[str, Any], work: Callable[[str, Any], Awaitable[None]]
) -> None:
    """Run `work` for every owner (pool, group) in every attempt: a transient failure
    on one is raised after the others are done, so the retry budget is spent per
    owner, not by whichever comes first."""
    failed: list[tuple[str, TransientError]] = []
    for owner, items in owners.items():
        try:
            await work(owner, items)
        except TransientError as exc:
            failed.append((owner, exc))
    if failed:
        owner, exc = failed[0]
        raise TransientError(
            f"{what} of {len(failed)} owner(s) not deleted yet (first: {owner}: {exc})"
        )


async def delete_in_chunks(
    ctx: PhaseContext,
    client: R1Client,
    what: str,
    owner: str,
    ids: Sequence[str],
    delete: Callable[[list[str]], Awaitable[Any]],
) -> None:
    """Bulk deletes of up to `DELETE_CHUNK` ids, each waited for, with progress."""
    for start in range(0, len(ids), DELETE_CHUNK):
        chunk = list(ids[start : start + DELETE_CHUNK])
        await wait(ctx, client, await delete(chunk))
        ctx.log(f"deleted {start + len(chunk)}/{len(ids)} {what} of {owner}")
    ctx.incr(f"{what}_deleted", len(ids))


class DeletePassphrases(R1Phase):
    """Global: the job's passphrases, one bulk delete per pool and 1,000 ids.
    Imports recorded by username are resolved to ids from the pool here; the
    ids deleted are handed to `DeleteIdentities` (`deleted_passphrases`)."""

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        deleted: dict[str, list[str]] = dict(ctx.values.get("deleted_passphrases") or {})

        async def pool(pool_id: str, owner: Any) -> None:
            ids, names = owner
            if await client.get_dpsk_pool(pool_id) is None:
                return
            rows = await client.list_passphrases(pool_id)
            present = {p.id for p in rows}
            todo = sorted({i for i in ids if i in present} | set(by_username(rows, names)))
            deleted[pool_id] = sorted(set(deleted.get(pool_id, [])) | set(todo))
            deletes = functools.partial(client.delete_passphrases, pool_id)
            await delete_in_chunks(ctx, client, "passphrases", pool_id, todo, deletes)

        await for_each_owner("passphrases", owned(ctx.options), pool)
        return {"deleted_passphrases": deleted}

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        n = sum(len(v) for v in ctx.options.passphrases.values())
        n += sum(len(v) for v in ctx.options.passphrase_names.values())
        kept = ctx.options.kept.get("passphrase", 0)
        note = [f"keep {kept} passphrase(s): not proven created by this job"] if kept else []
        if not n:
            return PhasePlan(action="skip", resource="passphrase", detail="; ".join(note) or None)
        pools = owned(ctx.options)
        calls = sum(2 + -(-(len(i) + len(u)) // DELETE_CHUNK) for i, u in pools.values())
        return PhasePlan(
            action="delete",
            resource="passphrase",
            calls=calls,
            detail="; ".join([f"{n} passphrase(s) in {len(pools)} pool(s)", *note]),
        )


def identities_by_group(
    opts: CleanupOptions, deleted: dict[str, list[str]] | None = None
) -> dict[str, set[str]]:
    """Identity group id -> the job's passphrase ids whose identities it holds
    (with the ids `DeletePassphrases` resolved from imported usernames)."""
    out: dict[str, set[str]] = {}
    for pool_id, ids in [*opts.passphrases.items(), *(deleted or {}).items()]:
        group_id = opts.pool_groups.get(pool_id)
        if group_id:
            out.setdefault(group_id, set()).update(ids)
    return out


class DeleteIdentities(R1Phase):
    """Global: the identities R1 made for the job's passphrases (`dpskGuid` is
    the passphrase), one bulk delete per group and 1,000 ids. Any other
    identity stays (and so does its group: R1 refuses to delete it)."""

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        async def group(group_id: str, phrase_ids: Any) -> None:
            if await client.get_identity_group(group_id) is None:
                return
            ours = [i.id for i in await client.list_identities(group_id)
                    if i.dpsk_guid in phrase_ids]  # fmt: skip
            deletes = functools.partial(client.delete_identities, group_id)
            await delete_in_chunks(ctx, client, "identities", group_id, ours, deletes)

        deleted = ctx.values.get("deleted_passphrases") or {}
        await for_each_owner("identities", identities_by_group(ctx.options, deleted), group)

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        groups = identities_by_group(ctx.options)
        for pool_id, names in ctx.options.passphrase_names.items():
            group_id = ctx.options.pool_groups.get(pool_id)
            if group_id:
                groups.setdefault(group_id, set()).update(f"name:{n}" for n in names)
        n = sum(len(v) for v in groups.values())
        if not n:
            return PhasePlan(action="skip", resource="identity")
        return PhasePlan(
            action="delete",
            resource="identity",
            calls=sum(2 + -(-len(v) // DELETE_CHUNK) for v in groups.values()),
            detail=f"up to {n} identities (one per passphrase) in {len(groups)} group(s)",
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
        """Also the plan's summary of everything kept (the operator sees it here)."""
        todo, notes = await sort_out(ctx, ctx.options.global_items)
        summary = kept_line(ctx.options.kept)
        data = {"kept_note": summary, "kept": ctx.options.kept} if summary else {}
        notes += [summary] if summary else []
        if not todo:
            return PhasePlan(action="skip", detail="; ".join(notes) or None, data=data)
        return PhasePlan(
            action="delete",
            calls=2 * len(todo),
            detail="; ".join([", ".join(f"{i.kind} {i.name or i.id}" for i in todo), *notes]),
            data=data,
        )


def r1_cleanup() -> WorkflowSpec:
    phases: list[PhaseSpec] = [
        PhaseSpec(
            id="passphrases",
            title="Delete passphrases",
            executor=DeletePassphrases(),
            per_unit=False,
            destructive=True,
            outputs=("deleted_passphrases",),
        ),
        PhaseSpec(
            id="identities",
            title="Delete identities",
            executor=DeleteIdentities(),
            per_unit=False,
            depends_on=("passphrases",),
            inputs=("deleted_passphrases",),
            destructive=True,
        ),
    ]
    previous = "identities"
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
