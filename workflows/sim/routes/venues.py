"""Venues, AP groups, APs (group assignment) and per-AP LAN port settings."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workflows.sim.errors import not_found, validation_failure
from workflows.sim.model import ApGroup
from workflows.sim.pipeline import Ctx, accepted, api_route
from workflows.sim.query import QuerySpec, narrow, page_a

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator

VLAN_LIST = re.compile(r"^\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*$")


class ApGroupCreate(BaseModel):
    name: str = Field(min_length=2, max_length=64)
    description: str | None = Field(None, min_length=2, max_length=180)
    apSerialNumbers: list[str] = Field(default_factory=list)


class LanSpecific(BaseModel):
    useVenueSettings: bool


class LanPortSettings(BaseModel):
    overwriteUntagId: int = Field(ge=1, le=4094)
    overwriteType: Literal["ACCESS", "TRUNK", "GENERAL"] = "ACCESS"
    overwriteVlanMembers: str | None = None
    enabled: bool = True


def _vlans(members: str) -> list[int]:
    if not VLAN_LIST.match(members):
        raise validation_failure("lanPort", "overwriteVlanMembers", "Invalid VLAN member list")
    out: list[int] = []
    for part in members.split(","):
        lo, _, hi = part.partition("-")
        out += [int(lo), int(hi or lo)]
    if any(not 1 <= v <= 4094 for v in out):
        raise validation_failure("lanPort", "overwriteVlanMembers", "VLAN ids must be 1-4094")
    return out


def routes(sim: Simulator) -> list[Route]:
    def venue_or_404(venue_id: str) -> None:
        if venue_id not in sim.store.venues:
            raise not_found("Venue", venue_id)

    def ap_or_404(venue_id: str, serial: str) -> Any:
        venue_or_404(venue_id)
        ap = sim.store.aps.get(serial)
        if ap is None or ap.venueId != venue_id:
            raise not_found("AP", serial)
        return ap

    async def query_venues(ctx: Ctx) -> Response:
        spec = await ctx.model(QuerySpec)
        rows = narrow(sim.store.venues, spec.filters)
        return JSONResponse(page_a(rows, spec, lambda v: v.to_json()))

    async def get_venue(ctx: Ctx) -> Response:
        venue = sim.store.venues.get(ctx.params["venueId"])
        if venue is None:
            raise not_found("Venue", ctx.params["venueId"])
        return JSONResponse(venue.to_json())

    async def create_ap_group(ctx: Ctx) -> Response:
        venue_id = ctx.params["venueId"]
        venue_or_404(venue_id)
        body = await ctx.model(ApGroupCreate)
        store = sim.store
        group = ApGroup(sim.new_id(), venue_id, body.name, body.description or "")
        release = sim.reserve(
            "apGroups", venue_id, body.name, (venue_id, body.name) in store.group_by_name, group.id
        )

        def apply() -> None:
            for serial in body.apSerialNumbers:
                ap = store.aps.get(serial)
                if ap is None or ap.venueId != venue_id:
                    raise validation_failure("ap", "serialNumber", f"AP {serial} not in venue")
            store.add_ap_group(group)
            for serial in body.apSerialNumbers:
                store.move_ap(serial, venue_id, group.id)

        rid = sim.submit(ctx, "AddApGroup", apply, obj="apGroup", on_done=release)
        return accepted(rid, id=group.id)

    async def query_ap_groups(ctx: Ctx) -> Response:
        spec = await ctx.model(QuerySpec)
        store = sim.store
        venues = spec.filters.get("venueId")
        rows: Any = narrow(store.ap_groups, spec.filters)
        if "id" not in spec.filters and isinstance(venues, list) and len(venues) == 1:
            rows = [store.ap_groups[g] for g in store.groups_by_venue.get(str(venues[0]), ())]
        return JSONResponse(page_a(rows, spec, lambda g: g.to_json()))

    async def get_ap_group(ctx: Ctx) -> Response:
        group = sim.store.ap_groups.get(ctx.params["apGroupId"])
        if group is None or group.venueId != ctx.params["venueId"]:
            raise not_found("AP group", ctx.params["apGroupId"])
        return JSONResponse(group.to_json())

    async def delete_ap_group(ctx: Ctx) -> Response:
        group_id = ctx.params["apGroupId"]
        group = sim.store.ap_groups.get(group_id)
        if group is None or group.venueId != ctx.params["venueId"]:
            raise not_found("AP group", group_id)
        rid = sim.submit(
            ctx, "DeleteApGroup", lambda: sim.store.delete_ap_group(group_id), obj="apGroup"
        )
        return accepted(rid)

    async def query_aps(ctx: Ctx) -> Response:
        spec = await ctx.model(QuerySpec)
        store = sim.store
        filters = spec.filters
        rows: Any = store.aps.values()
        serials = filters.get("serialNumber")
        if isinstance(serials, list):
            rows = [store.aps[s] for s in dict.fromkeys(map(str, serials)) if s in store.aps]
        elif isinstance(filters.get("apGroupId"), list) and len(filters["apGroupId"]) == 1:
            rows = [store.aps[s] for s in store.aps_by_group.get(str(filters["apGroupId"][0]), ())]
        elif isinstance(filters.get("venueId"), list) and len(filters["venueId"]) == 1:
            rows = [store.aps[s] for s in store.aps_by_venue.get(str(filters["venueId"][0]), ())]
        return JSONResponse(page_a(rows, spec, lambda a: a.to_json(), ("serialNumber",)))

    async def get_ap(ctx: Ctx) -> Response:
        return JSONResponse(ap_or_404(ctx.params["venueId"], ctx.params["serial"]).to_json())

    async def assign_ap(ctx: Ctx) -> Response:
        venue_id, group_id, serial = (ctx.params[k] for k in ("venueId", "apGroupId", "serial"))
        venue_or_404(venue_id)
        if serial not in sim.store.aps:
            raise not_found("AP", serial)
        if group_id not in sim.store.ap_groups and group_id not in sim.store.pending_ids:
            raise not_found("AP group", group_id)
        rid = sim.submit(
            ctx, "UpdateAp", lambda: sim.store.move_ap(serial, venue_id, group_id), obj="ap"
        )
        return accepted(rid)

    async def put_lan_specific(ctx: Ctx) -> Response:
        ap = ap_or_404(ctx.params["venueId"], ctx.params["serial"])
        body = await ctx.model(LanSpecific)

        def apply() -> None:
            ap.useVenueSettings = body.useVenueSettings

        return accepted(sim.submit(ctx, "UpdateApLanPortSpecificSettings", apply, obj="ap"))

    async def get_lan_specific(ctx: Ctx) -> Response:
        ap = ap_or_404(ctx.params["venueId"], ctx.params["serial"])
        return JSONResponse(
            {
                "useVenueSettings": ap.useVenueSettings,
                "lanPorts": [p.to_json() for p in ap.lanPorts.values()],
            }
        )

    async def put_lan_port(ctx: Ctx) -> Response:
        ap = ap_or_404(ctx.params["venueId"], ctx.params["serial"])
        port_id = ctx.params["portId"]
        if port_id not in ap.lanPorts:
            raise not_found(f"LAN port on {ap.model}", port_id)
        body = await ctx.model(LanPortSettings)

        def apply() -> None:
            if ap.useVenueSettings:
                raise validation_failure(
                    "ap",
                    "useVenueSettings",
                    "AP uses venue LAN port settings; set useVenueSettings to false first",
                )
            members = body.overwriteVlanMembers or str(body.overwriteUntagId)
            vlans = _vlans(members)
            if body.overwriteType == "ACCESS" and set(vlans) != {body.overwriteUntagId}:
                raise validation_failure(
                    "lanPort",
                    "overwriteVlanMembers",
                    "An ACCESS port carries only its untagged VLAN",
                )
            port = ap.lanPorts[port_id]
            port.type, port.untagId = body.overwriteType, body.overwriteUntagId
            port.vlanMembers, port.enabled = members, body.enabled

        return accepted(sim.submit(ctx, "UpdateApLanPortSettings", apply, obj="lanPort"))

    async def get_lan_port(ctx: Ctx) -> Response:
        ap = ap_or_404(ctx.params["venueId"], ctx.params["serial"])
        port = ap.lanPorts.get(ctx.params["portId"])
        if port is None:
            raise not_found("LAN port", ctx.params["portId"])
        return JSONResponse(port.to_json())

    aps = "/venues/{venueId}/aps/{serial}"
    return [
        api_route(sim, "POST", "/venues/query", query_venues),
        api_route(sim, "POST", "/venues/apGroups/query", query_ap_groups),
        api_route(sim, "POST", "/venues/aps/query", query_aps),
        api_route(sim, "GET", "/venues/{venueId}", get_venue),
        api_route(sim, "POST", "/venues/{venueId}/apGroups", create_ap_group),
        api_route(sim, "GET", "/venues/{venueId}/apGroups/{apGroupId}", get_ap_group),
        api_route(sim, "DELETE", "/venues/{venueId}/apGroups/{apGroupId}", delete_ap_group),
        api_route(sim, "PUT", "/venues/{venueId}/apGroups/{apGroupId}/aps/{serial}", assign_ap),
        api_route(sim, "GET", aps, get_ap),
        api_route(sim, "PUT", aps + "/lanPortSpecificSettings", put_lan_specific),
        api_route(sim, "GET", aps + "/lanPortSpecificSettings", get_lan_specific),
        api_route(sim, "PUT", aps + "/lanPorts/{portId}/settings", put_lan_port),
        api_route(sim, "GET", aps + "/lanPorts/{portId}/settings", get_lan_port),
    ]
