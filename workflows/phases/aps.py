"""Per-unit AP phases: move the unit's APs into its AP group; per-AP LAN ports.

On a first try both act on the plan (the inventory's APs: serials, groups,
models) and read nothing: a group created with its APs leaves nothing to move,
and the LAN port writes of all the unit's APs are waited for together.
"""

from __future__ import annotations

from typing import Any

from engine.context import PhaseContext, PlanContext
from engine.errors import PermanentError
from engine.models import PhasePlan
from workflows.inputs.unit_checks import ap_serial_problem
from workflows.inventory import Inventory
from workflows.jobcache import JobCache, resolve_ap
from workflows.options import LanPortSetting
from workflows.phases.base import R1Phase, conflict, reuse, unit_names, vlan_of, waits
from workflows.provenance import untagged_action
from workflows.r1 import Ap, R1Client
from workflows.r1ctx import wait, wait_all


async def unit_serials(ctx: Any, client: R1Client, cache: JobCache, venue_id: str) -> list[str]:
    """The unit's AP identifiers (serials or names) as serials of the venue."""
    return [
        (await resolve_ap(cache, client, venue_id, ident)).serial_number
        for ident in ctx.unit.ap_serials
    ]


def serial_conflict(resource: str, idents: list[str]) -> PhasePlan | None:
    """A located conflict for identifiers that are neither AP names nor R1 serials."""
    problems = [p for p in map(ap_serial_problem, idents) if p is not None]
    if not problems:
        return None
    plan = conflict(resource, ", ".join(idents), "; ".join(p.text() for p in problems))
    plan.data = {"fields": ["ap_serials"]}
    return plan


def plan_aps(inv: Inventory, idents: list[str]) -> tuple[list[Any], list[str]]:
    found, missing = [], []
    for ident in idents:
        ap = inv.ap(ident)
        if ap is None:
            missing.append(ident)
        else:
            found.append(ap)
    return found, missing


class AssignApsPhase(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> dict[str, Any]:
        venue_id, group_id = ctx.values["venue_id"], ctx.values["ap_group_id"]
        plan = ctx.plan if ctx.first_try else None
        if plan is not None and "aps_from" in (plan.data or {}):
            return await self.from_plan(ctx, client, plan.data["aps_from"])
        serials = await unit_serials(ctx, client, cache, venue_id)
        if not serials:
            return {"ap_serials": []}
        current = {a.serial_number: a for a in await client.list_aps(serials=serials)}
        moves = []
        for serial in serials:
            ap = current.get(serial)
            if ap is None or (ap.venue_id and ap.venue_id != venue_id):
                raise PermanentError(f"AP {serial} is not in the venue")
            parent = {
                "venue_id": venue_id,
                "ap_group_id": group_id,
                "from_group_id": ap.ap_group_id or "",
            }
            if ap.ap_group_id == group_id:
                ctx.record("ap", serial, parent=parent, action=untagged_action(ctx))
                continue
            moves.append(
                (serial, parent, await client.assign_ap_to_group(venue_id, group_id, serial))
            )
        for serial, parent, accepted in moves:
            await wait(ctx, client, accepted)
            ctx.record("ap", serial, parent=parent)
        return {"ap_serials": serials}

    async def from_plan(
        self, ctx: PhaseContext, client: R1Client, aps_from: dict[str, str]
    ) -> dict[str, Any]:
        """Move the APs the plan saw outside the group, all waited for together;
        none when the group was created with them (`ap_group_with_aps`)."""
        venue_id, group_id = ctx.values["venue_id"], ctx.values["ap_group_id"]
        serials = list(aps_from)
        if ctx.values.get("ap_group_with_aps"):
            return {"ap_serials": serials}
        moves = []
        for serial, from_group in aps_from.items():
            parent = {"venue_id": venue_id, "ap_group_id": group_id, "from_group_id": from_group}
            if from_group == group_id:
                ctx.record("ap", serial, parent=parent, action=untagged_action(ctx))
                continue
            moves.append((serial, parent))
        accepted = [await client.assign_ap_to_group(venue_id, group_id, s) for s, _ in moves]
        await wait_all(ctx, client, accepted)
        for serial, parent in moves:
            ctx.record("ap", serial, parent=parent)
        return {"ap_serials": serials}

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        group_name = unit_names(ctx)["ap_group"]
        if (bad := serial_conflict("ap", list(ctx.unit.ap_serials))) is not None:
            return bad
        found, missing = plan_aps(inv, list(ctx.unit.ap_serials))
        if missing:
            return conflict("ap", ", ".join(missing), f"not in venue {inv.venue.name}")
        group = inv.group_by_name(group_name)
        aps_from = {a.serial_number: a.ap_group_id or "" for a in found}
        creator = ctx.shared.get("claims:ap_group", {}).get(group_name) == ctx.unit_key
        moves = [a for a in found if group is None or a.ap_group_id != group.id]
        if not moves or (group is None and creator):
            detail = "go in with the new group" if moves else "already in group"
            plan = reuse("ap", group_name, None, detail=f"{len(found)} AP(s) {detail}", calls=0)
            plan.data = {"aps_from": aps_from}
            return waits(plan, 0)
        return PhasePlan(
            action="update",
            resource="ap",
            name=group_name,
            calls=len(moves),
            waits=1,
            detail=f"move {len(moves)} AP(s) into {group_name}",
            data={"serials": [a.serial_number for a in moves], "aps_from": aps_from},
        )


def port_settings(opts: Any, model: str | None) -> list[LanPortSetting]:
    table = opts.lan_ports or {}
    return list(table.get(model or "", table.get("*", [])))


def skip_lan_ports(opts: Any, unit: Any) -> bool:
    return not (opts.lan_ports and getattr(unit, "ap_serials", None))


class LanPortsPhase(R1Phase):
    async def do(self, ctx: PhaseContext, client: R1Client, cache: JobCache) -> None:
        venue_id = ctx.values["venue_id"]
        plan = ctx.plan if ctx.first_try else None
        if plan is not None and "aps" in (plan.data or {}):
            aps = [Ap.model_validate(a) for a in plan.data["aps"]]
        else:
            serials = await unit_serials(ctx, client, cache, venue_id)
            aps = await client.list_aps(serials=serials) if serials else []
        vlan = vlan_of(ctx.unit, ctx.options)
        work = [(ap, port_settings(ctx.options, ap.model)) for ap in aps]
        work = [(ap, ports) for ap, ports in work if ports]
        overrides = [
            (ap, ports, await client.set_ap_lan_port_override(venue_id, ap.serial_number))
            for ap, ports in work
        ]
        await wait_all(ctx, client, [accepted for _, _, accepted in overrides])
        writes = []
        for ap, ports, _accepted in overrides:
            ctx.record(
                "lan_ports",
                ap.serial_number,
                name=ap.name,
                parent={"venue_id": venue_id, "serial": ap.serial_number},
                data={"ports": [p.port_id for p in ports]},
            )
            for p in ports:
                untag = p.untag_id or vlan
                members = p.vlan_members if p.type == "TRUNK" and p.vlan_members else str(untag)
                writes.append(await client.set_ap_lan_port(
                    venue_id, ap.serial_number, p.port_id, untag_id=untag, vlan_members=members,
                ))  # fmt: skip
        await wait_all(ctx, client, writes)

    def plan_unit(self, ctx: PlanContext, inv: Inventory) -> PhasePlan:
        if (bad := serial_conflict("lan_ports", list(ctx.unit.ap_serials))) is not None:
            return bad
        found, missing = plan_aps(inv, list(ctx.unit.ap_serials))
        if missing:
            return conflict("lan_ports", ", ".join(missing), f"not in venue {inv.venue.name}")
        calls = sum(
            1 + len(port_settings(ctx.options, a.model))
            for a in found
            if port_settings(ctx.options, a.model)
        )
        if not calls:
            return PhasePlan(action="skip", resource="lan_ports", detail="no settings for models")
        aps = [{"serialNumber": a.serial_number, "name": a.name, "model": a.model} for a in found]
        return PhasePlan(
            action="update", resource="lan_ports", calls=calls, waits=2,
            detail=f"{len(found)} AP(s)", data={"aps": aps},
        )  # fmt: skip
