"""Per-unit DPSK passphrases: one CSV import when more than `bulk_threshold`
(default 1) are missing, else one call each. Idempotent by username: existing
ones are kept.

In a pool the plan saw absent (this job creates it), on the cell's first try
every row is missing and nothing is read: the ledger records the import by
usernames (`passphrase_import`) and cleanup resolves them to ids from the pool
when it runs. A retry, or a pool that existed, lists the pool before and after.
"""

from __future__ import annotations

from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.errors import TransientError
from engine.models import PhasePlan
from workflows.inventory import Inventory
from workflows.jobcache import JobCache
from workflows.naming import passphrase_username
from workflows.phases.base import R1Phase, bad_name, reuse, unit_names, vlan_of, waits
from workflows.provenance import untagged_action
from workflows.r1 import PassphraseRow, R1ActivityFailed, R1Client, raise_for_activity
from workflows.r1ctx import is_duplicate, wait


def wanted_rows(ctx: Any) -> list[PassphraseRow]:
    unit, opts = ctx.unit, ctx.options
    popts = opts.passphrases
    rows = []
    for n in range(1, popts.per_unit + 1):
        secret = getattr(unit, "ssid_password", None) if n == 1 else None
        rows.append(PassphraseRow(
            username=passphrase_username(opts.naming, unit, n),
            passphrase=secret, vlan_id=vlan_of(unit, opts),
            number_of_devices=popts.device_limit,
        ))  # fmt: skip
    return rows


def calls_for(missing: int, threshold: int) -> int:
    if not missing:
        return 1
    return 2 + (1 if missing > threshold else missing)


async def pool_usernames(client: R1Client, pool_id: str) -> dict[str, str]:
    return {p.username or "": p.id for p in await client.list_passphrases(pool_id)}


async def create_missing(
    ctx: Any, client: R1Client, pool_id: str, missing: list[PassphraseRow]
) -> set[str]:
    """Create the rows; returns the usernames whose create R1 completed (ours).

    A duplicate FAIL means someone else's passphrase is in the way: that row
    (the whole import: R1 imports all or nothing) is not ours.
    """
    if len(missing) > ctx.options.passphrases.bulk_threshold:
        try:
            await wait(ctx, client, await client.import_passphrases_csv(pool_id, missing))
        except R1ActivityFailed as exc:
            if not is_duplicate(exc):
                raise
            ctx.log("some passphrases existed already: adopting them", level="warning")
            return set()
        return {r.username for r in missing}
    accepted = [(r, await client.create_passphrase(pool_id, r)) for r in missing]
    ids = [a.request_id for _, a in accepted if a.request_id]
    results = dict(zip(ids, await ctx.wait_activities(client.activities, ids), strict=True))
    made: set[str] = set()
    failure: R1ActivityFailed | None = None
    for row, a in accepted:  # all waited for together, then judged one by one
        try:
            if a.request_id:
                raise_for_activity(results[a.request_id])
        except R1ActivityFailed as exc:
            if not is_duplicate(exc):
                failure = failure or exc
                continue
            ctx.log("a passphrase existed already: adopting it", level="warning")
            continue
        made.add(row.username)
    if failure is not None:
        raise failure
    return made


def parent_of(ctx: Any, pool_id: str) -> dict[str, str]:
    parent = {"pool_id": pool_id}
    if ctx.values.get("identity_group_id"):  # where its identity lives (cleanup)
        parent["identity_group_id"] = ctx.values["identity_group_id"]
    return parent


class PassphrasesPhase(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        pool_id = ctx.values["pool_id"]
        rows = wanted_rows(ctx)
        plan = ctx.plan if ctx.first_try else None
        if plan is not None and (plan.data or {}).get("new_pool"):
            made = await create_missing(ctx, client, pool_id, rows)
            names = [r.username for r in rows if r.username in made]
            if names:
                ctx.record(
                    "passphrase_import", f"{pool_id}:{ctx.unit_key}",
                    name=f"{len(names)} passphrase(s)", parent=parent_of(ctx, pool_id),
                    data={"usernames": names},
                )  # fmt: skip
            if len(names) < len(rows):  # some were someone else's: look at the pool
                raise TransientError("some passphrases existed already: checking the pool")
            ctx.incr("passphrases", len(rows))
            return {"passphrases": len(rows)}
        have = await pool_usernames(client, pool_id)
        missing = [r for r in rows if r.username not in have]
        made: set[str] = set()
        if missing:
            made = await create_missing(ctx, client, pool_id, missing)
            have_now = await pool_usernames(client, pool_id)
        else:
            have_now = have
        parent = parent_of(ctx, pool_id)
        missing_now = [r.username for r in rows if r.username not in have_now]
        if missing_now:
            raise TransientError(f"{len(missing_now)} passphrase(s) not visible in the pool yet")
        for r in rows:
            action = "created" if r.username in made else untagged_action(ctx)
            ctx.record(
                "passphrase",
                have_now[r.username],
                name=r.username,
                parent=parent,
                action=action,
            )
        ctx.incr("passphrases", len(rows))
        return {"passphrases": len(rows)}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        popts = ctx.options.passphrases
        want = popts.per_unit
        last = passphrase_username(ctx.options.naming, ctx.unit, max(want, 1))  # the longest
        if (too_long := bad_name("passphrase_username", last)) is not None:
            return too_long
        pool = inv.pool_by_name(unit_names(ctx)["pool"])
        # DpskPoolDto has no passphrase count; R1 keeps one identity per passphrase,
        # so the pool's identity group counts them (IdentityGroup.identityCount).
        group = inv.identity_groups.get(pool.identity_group_id or "") if pool else None
        count = group.identity_count if group is not None else None
        if pool is not None and isinstance(count, int) and count >= want:
            plan = reuse("passphrase", unit_names(ctx)["pool"], pool.id, detail=f"{count} in pool")
            return waits(plan, 0)
        mode = "CSV import" if want > popts.bulk_threshold else "one call each"
        creator = ctx.shared.get("claims:pool", {}).get(unit_names(ctx)["pool"])
        new_pool = pool is None and creator == ctx.unit_key  # this unit's pool is new
        writes = 1 if want > popts.bulk_threshold else want
        return PhasePlan(
            action="create",
            resource="passphrase",
            name=unit_names(ctx)["pool"],
            calls=writes if new_pool else calls_for(want, popts.bulk_threshold),
            waits=1 if writes else 0,
            detail=f"{want} passphrase(s), {mode}",
            data={"new_pool": new_pool},
        )
