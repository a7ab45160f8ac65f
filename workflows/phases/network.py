"""Per-unit Wi-Fi network (PSK or DPSK) and the DPSK pool binding."""

from __future__ import annotations

from typing import Any, Literal

from engine.context import PhaseContext, PlanContext
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
    security_of,
    unit_names,
    vlan_of,
)
from workflows.provenance import untagged_action
from workflows.r1 import R1Client, WifiNetwork
from workflows.r1ctx import find_or_create, first, wait


def differences(
    net: WifiNetwork, *, kind: str, ssid: str, security: str, vlan: int, passphrase: str | None
) -> str | None:
    """Why an existing network cannot be reused (never shows a secret)."""
    wlan = net.wlan
    diffs = []
    if net.type and net.type != kind:
        diffs.append(f"type {net.type} (want {kind})")
    if net.effective_ssid and net.effective_ssid != ssid:
        diffs.append(f"SSID {net.effective_ssid!r} (want {ssid!r})")
    if wlan is not None:
        if wlan.wlan_security and wlan.wlan_security != security:
            diffs.append(f"security {wlan.wlan_security} (want {security})")
        if wlan.vlan_id is not None and wlan.vlan_id != vlan:
            diffs.append(f"VLAN {wlan.vlan_id} (want {vlan})")
        if (
            passphrase is not None
            and wlan.passphrase is not None
            and (wlan.passphrase.get_secret_value() != passphrase)
        ):
            diffs.append("a different passphrase")
    return ", ".join(diffs) or None


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

    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        w = self.wanted(ctx)
        name = w["name"]

        async def find() -> Any:
            return await first(client.iter_wifi_networks(filters={"name": [name]}))

        def check(net: WifiNetwork) -> str | None:
            return differences(
                net,
                kind=self.kind,
                ssid=w["ssid"],
                security=w["security"],
                vlan=w["vlan"],
                passphrase=w["passphrase"],
            )

        found = await find_or_create(
            ctx, client, resource="network", name=name, find=find, check=check,
            data={"type": self.kind, "ssid": w["ssid"], "security": w["security"],
                  "vlan": w["vlan"]},
            create=lambda tag: client.create_wifi_network(
                name, w["ssid"], network_type=self.kind, security=w["security"],
                passphrase=w["passphrase"], vlan_id=w["vlan"], description=tag,
            ),
        )  # fmt: skip
        return {"network_id": found.id}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        w = self.wanted(ctx)
        name = w["name"]
        if (too_long := bad_name("network", name) or bad_name("ssid", w["ssid"])) is not None:
            return too_long
        if self.kind == "psk" and w["passphrase"] is None:
            return conflict("network", name, "a PSK unit needs its ssid_password")
        other = claim(ctx, "network", name)
        if other is not None:
            return conflict("network", name, f"same network name as unit {other}")
        existing = inv.network_by_name(name)
        if existing is None:
            return create("network", name, detail=f"{self.kind} SSID {w['ssid']}")
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
        return reuse("network", name, existing.id)


class BindPoolPhase(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        network_id, pool_id = ctx.values["network_id"], ctx.values["pool_id"]
        pool = await first(client.iter_dpsk_pools(filters={"id": [pool_id]}))
        parent = {"pool_id": pool_id, "network_id": network_id}
        if pool is not None and network_id in (pool.network_ids or []):
            ctx.record("binding", network_id, parent=parent, action=untagged_action(ctx))
            return
        await wait(ctx, client, await client.bind_dpsk_pool(network_id, pool_id))
        ctx.record("binding", network_id, parent=parent)

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        names = unit_names(ctx)
        net, pool = inv.network_by_name(names["network"]), inv.pool_by_name(names["pool"])
        if net is not None and pool is not None and net.id in (pool.network_ids or []):
            return reuse("binding", names["network"], net.id, detail=f"to {names['pool']}")
        planned: dict[str, int] = ctx.shared.setdefault("pool_networks", {})
        planned[names["pool"]] = planned.get(names["pool"], 0) + 1
        have = len(pool.network_ids or []) if pool is not None else 0
        limit = ctx.options.max_networks_per_pool
        if have + planned[names["pool"]] > limit:
            return conflict("binding", names["pool"], f"pool would serve over {limit} networks")
        return create("binding", names["network"], detail=f"to {names['pool']}")
