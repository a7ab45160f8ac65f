"""Per-unit Wi-Fi network (PSK or DPSK) and the DPSK pool binding.

Phase 0 holds each unit's network to R1's documents (name, SSID, security,
VLAN, passphrase; `workflows.inputs.unit_checks.network_problems`): a WPA3
unit in a DPSK workflow is a conflict naming the unit's `security_type`,
not a run that fails on its first call.
"""

from __future__ import annotations

from typing import Any, Literal

from engine.context import PhaseContext, PlanContext
from engine.errors import PermanentError
from engine.models import PhasePlan
from workflows.activate_util import active_on
from workflows.inputs.unit_checks import LimitProblem, network_problems
from workflows.inventory import Inventory
from workflows.jobcache import JobCache
from workflows.phases.base import (
    R1Phase,
    claim,
    conflict,
    create,
    reuse,
    security_of,
    unit_names,
    vlan_of,
    waits,
)
from workflows.provenance import untagged_action
from workflows.r1 import R1Client, WifiNetwork
from workflows.r1ctx import find_or_create, wait


def differences(
    net: WifiNetwork, *, kind: str, ssid: str, security: str, vlan: int, passphrase: str | None
) -> str | None:
    """Why an existing network cannot be reused, from its query row's documented
    fields (`nwSubType`, `ssid`, `securityProtocol`, `vlan`). A row carries no
    passphrase, so a changed passphrase is not seen here."""
    del passphrase  # kept in the signature for callers; R1 never answers it
    diffs = []
    if net.type and net.type != kind:
        diffs.append(f"type {net.type} (want {kind})")
    if net.ssid and net.ssid != ssid:
        diffs.append(f"SSID {net.ssid!r} (want {ssid!r})")
    if net.security_protocol and net.security_protocol != security:
        diffs.append(f"security {net.security_protocol} (want {security})")
    if net.vlan is not None and net.vlan != vlan:
        diffs.append(f"VLAN {net.vlan} (want {vlan})")
    return ", ".join(diffs) or None


def limit_conflict(problems: list[LimitProblem], name: str | None) -> PhasePlan | None:
    """One located conflict (the unit's fields) for what R1 would refuse."""
    if not problems:
        return None
    plan = conflict("network", name, "; ".join(p.text() for p in problems))
    plan.data = {"fields": [p.field for p in problems]}
    return plan


class NetworkPhase(R1Phase):
    def __init__(self, kind: Literal["psk", "dpsk"]) -> None:
        self.kind = kind

    def wanted(self, ctx: Any) -> dict[str, Any]:
        unit, opts = ctx.unit, ctx.options
        secret = getattr(unit, "ssid_password", None) if self.kind == "psk" else None
        return {
            "name": unit_names(ctx)["network"],
            "ssid": unit_names(ctx)["ssid"],
            "security": security_of(unit, opts),
            "vlan": vlan_of(unit, opts),
            "passphrase": secret.get_secret_value() if secret is not None else None,
        }

    def problems(self, w: dict[str, Any]) -> list[LimitProblem]:
        return network_problems(
            kind=self.kind, network_name=w["name"], ssid=w["ssid"], security=w["security"],
            vlan=w["vlan"], passphrase=w["passphrase"],
        )  # fmt: skip

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        w = self.wanted(ctx)
        name = w["name"]
        if problems := self.problems(w):
            raise PermanentError("; ".join(p.text() for p in problems))

        def check(net: WifiNetwork) -> str | None:
            return differences(
                net,
                kind=self.kind,
                ssid=w["ssid"],
                security=w["security"],
                vlan=w["vlan"],
                passphrase=w["passphrase"],
            )

        seen: list[WifiNetwork] = []

        async def find() -> Any:
            net = await client.find_wifi_network(name)
            seen[:] = [net] if net is not None else []
            return net

        found = await find_or_create(
            ctx, client, resource="network", name=name, find=find, check=check,
            data={"type": self.kind, "ssid": w["ssid"], "security": w["security"],
                  "vlan": w["vlan"]},
            create=lambda tag: client.create_wifi_network(
                name, w["ssid"], network_type=self.kind, security=w["security"],
                passphrase=w["passphrase"], vlan_id=w["vlan"], description=tag,
            ),
        )  # fmt: skip
        await relate_to_venue(ctx, client, found.id, seen[0] if seen else None)
        return {"network_id": found.id}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        w = self.wanted(ctx)
        name = w["name"]
        if (bad := limit_conflict(self.problems(w), name)) is not None:
            return bad
        if self.kind == "psk" and w["passphrase"] is None:
            return conflict("network", name, "a PSK unit needs its ssid_password")
        other = claim(ctx, "network", name)
        if other is not None:
            return conflict("network", name, f"same network name as unit {other}")
        existing = inv.network_by_name(name)
        if existing is None:
            plan = create("network", name, detail=f"{self.kind} SSID {w['ssid']}", calls=2)
            plan.data = {"on_venue": False}
            return waits(plan, 2)
        why = differences(
            existing,
            kind=self.kind,
            ssid=w["ssid"],
            security=w["security"],
            vlan=w["vlan"],
            passphrase=w["passphrase"],
        )
        if why:
            return conflict("network", name, f"exists with different settings: {why}")
        on_venue = active_on(existing, inv.venue_id)
        plan = reuse("network", name, existing.id, calls=0 if on_venue else 1)
        plan.data["on_venue"] = on_venue
        return waits(plan, 0 if on_venue else 1)


async def relate_to_venue(
    ctx: PhaseContext, client: R1Client, network_id: str, net: WifiNetwork | None
) -> None:
    """The network-venue relation without groups (`activate` adds the unit's group).

    From the plan on a first try; else from what the run found (a network it
    just created has none). Not a ledger entry of its own: the group's
    activation entry undoes it (cleanup drops the relation with the last group),
    and cleanup drops a relation left without groups before deleting a network.
    """
    venue_id = ctx.values["venue_id"]
    plan = ctx.plan if ctx.first_try else None
    if plan is not None and "on_venue" in (plan.data or {}):
        on_venue = bool(plan.data["on_venue"])
    elif net is not None:
        on_venue = active_on(net, venue_id)
    else:
        found = await client.find_by_id(network_id)
        on_venue = found is not None and active_on(found, venue_id)
    if on_venue:
        return
    await wait(ctx, client, await client.activate_on_venue(venue_id, network_id,
                                                             all_ap_groups=False))  # fmt: skip


async def bind_pool(ctx: PhaseContext, client: R1Client, network_id: str, pool_id: str) -> None:
    """Bind (an idempotent PUT) and record it as ours only if it raised the pool's
    `networkCount`: R1 says how many networks a pool serves, not which.

    A first try the plan calls "create" (the network or the pool is new, or the
    pool serves none) needs no count: a success is our binding."""
    parent = {"pool_id": pool_id, "network_id": network_id}
    if ctx.first_try and ctx.plan is not None and ctx.plan.action == "create":
        await wait(ctx, client, await client.bind_dpsk_pool(network_id, pool_id))
        ctx.record("binding", network_id, parent=parent)
        return
    before = await client.get_dpsk_pool(pool_id)
    await wait(ctx, client, await client.bind_dpsk_pool(network_id, pool_id))
    after = await client.get_dpsk_pool(pool_id)
    was = (before.network_count or 0) if before is not None else None
    now = (after.network_count or 0) if after is not None else None
    if was is not None and now is not None and now > was:
        ctx.record("binding", network_id, parent=parent)
    else:
        ctx.record("binding", network_id, parent=parent, action=untagged_action(ctx))


class BindPoolPhase(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        await bind_pool(ctx, client, ctx.values["network_id"], ctx.values["pool_id"])

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        names = unit_names(ctx)
        net, pool = inv.network_by_name(names["network"]), inv.pool_by_name(names["pool"])
        have = (pool.network_count or 0) if pool is not None else 0
        if net is not None and pool is not None and have >= 1:
            # Which networks a pool serves is not in R1's answers; the run's PUT is
            # idempotent and tells (networkCount grows only if it was not bound).
            detail = f"to {names['pool']} (serves {have}; bind is idempotent)"
            return waits(reuse("binding", names["network"], net.id, detail=detail, calls=3), 1)
        planned: dict[str, int] = ctx.shared.setdefault("pool_networks", {})
        planned[names["pool"]] = planned.get(names["pool"], 0) + 1
        limit = ctx.options.max_networks_per_pool
        if have + planned[names["pool"]] > limit:
            return conflict("binding", names["pool"], f"pool would serve over {limit} networks")
        return waits(create("binding", names["network"], detail=f"to {names['pool']}", calls=1), 1)
