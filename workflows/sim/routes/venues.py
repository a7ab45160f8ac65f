"""Venues, AP groups, APs (group assignment) and per-AP LAN port settings.

Answers carry only what the documents define: view-model rows (VenueData,
ApGroupQueryData, ApQueryData) for the queries, VenueView / VenueApGroup /
ApV1 / ApLanPortSettingsV1 for the reads. AP group creation under
`application/json` takes ApGroup (`apSerialNumbers` as `{serialNumber}`
objects) and answers OperationResponseIdOnly (a requestId, no id); under
`application/vnd.ruckus.v1.1+json` it takes VenueApGroup (serials as strings)
and answers EntityIdOperationResponse (`response.id`). Either way the listed
APs must be the venue's (else the activity FAILs and nothing is created) and
an AP in another group of the venue is moved into the new one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workflows.r1.contract import limits as L
from workflows.sim.errors import bad_request, not_found, validation_failure
from workflows.sim.model import ApGroup
from workflows.sim.pipeline import Ctx, accepted, api_route
from workflows.sim.query import QuerySpec, narrow, page_a

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator

VLAN_LIST = re.compile(r"^\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*$")


class ApSerial(BaseModel):
    serialNumber: str


V1_1 = "application/vnd.ruckus.v1.1+json"


class ApGroupCreate(BaseModel):
    name: str
    description: str | None = None
    apSerialNumbers: list[ApSerial] = Field(default_factory=list)

    def check(self) -> None:
        problems = []
        if not L.fits(L.AP_GROUP, "name", self.name):
            problems.append("name: must be 2-64 characters, no leading/trailing space, no ` or $(")
        if self.description is not None and not L.fits(L.AP_GROUP, "description",
                                                         self.description):  # fmt: skip
            problems.append("description: must be 2-180 characters")
        bad = [s.serialNumber for s in self.apSerialNumbers
               if not L.fits(L.AP_SERIAL, "serialNumber", s.serialNumber)]  # fmt: skip
        if bad:
            problems.append(f"apSerialNumbers: not AP serial numbers: {', '.join(bad[:5])}")
        if problems:
            raise bad_request("Validation failed: " + "; ".join(problems))


class VenueApGroupCreate(ApGroupCreate):
    """VenueApGroup (v1.1): the serials are plain strings."""

    @field_validator("apSerialNumbers", mode="before")
    @classmethod
    def _strings(cls, value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [{"serialNumber": v} for v in value]
        raise ValueError("apSerialNumbers: a list of serial number strings")


class LanSpecific(BaseModel):
    useVenueSettings: bool


class LanPortSettings(BaseModel):
    """ApLanPortSettingsV1: the port's type is its profile's, not a per-AP setting."""

    overwriteUntagId: int = Field(ge=1, le=4094)
    overwriteVlanMembers: str | None = None
    enabled: bool = True


def venue_row(v: Any) -> dict[str, Any]:
    """VenueData (the view model's flat address fields)."""
    out = {"id": v.id, "name": v.name}
    for key in ("addressLine", "city", "country"):
        if v.address.get(key):
            out[key] = v.address[key]
    if v.description:
        out["description"] = v.description
    return out


def venue_view(v: Any) -> dict[str, Any]:
    """VenueView (venue service): the address as an object with city and country."""
    address = {k: v.address[k] for k in ("addressLine", "city", "country") if v.address.get(k)}
    out = {"id": v.id, "name": v.name,
           "address": {"city": "", "country": "", **address}}  # fmt: skip
    if v.description:
        out["description"] = v.description
    return out


def ap_row(a: Any) -> dict[str, Any]:
    """ApQueryData."""
    return {"serialNumber": a.serialNumber, "name": a.name, "model": a.model,
            "venueId": a.venueId, "apGroupId": a.apGroupId}  # fmt: skip


def port_settings(p: Any) -> dict[str, Any]:
    """ApLanPortSettingsV1."""
    return {"overwriteUntagId": p.untagId, "overwriteVlanMembers": p.vlanMembers,
            "enabled": p.enabled}  # fmt: skip


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
    def group_row(g: Any) -> dict[str, Any]:
        """ApGroupQueryData."""
        out = {"id": g.id, "name": g.name, "isDefault": g.isDefault, "venueId": g.venueId,
               "apSerialNumbers": sorted(sim.store.aps_by_group.get(g.id, ()))}  # fmt: skip
        if g.description:
            out["description"] = g.description
        return out

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
        return JSONResponse(page_a(rows, spec, venue_row))

    async def get_venue(ctx: Ctx) -> Response:
        venue = sim.store.venues.get(ctx.params["venueId"])
        if venue is None:
            raise not_found("Venue", ctx.params["venueId"])
        return JSONResponse(venue_view(venue))

    async def create_ap_group(ctx: Ctx) -> Response:
        venue_id = ctx.params["venueId"]
        venue_or_404(venue_id)
        v1_1 = ctx.request.headers.get("content-type", "").split(";")[0].strip() == V1_1
        body = await ctx.model(VenueApGroupCreate if v1_1 else ApGroupCreate)
        body.check()
        serials = [s.serialNumber for s in body.apSerialNumbers]
        store = sim.store
        group = ApGroup(sim.new_id(), venue_id, body.name, body.description or "")
        release = sim.reserve(
            "apGroups", venue_id, body.name, (venue_id, body.name) in store.group_by_name, group.id
        )

        def apply() -> None:
            for serial in serials:
                ap = store.aps.get(serial)
                if ap is None or ap.venueId != venue_id:
                    raise validation_failure("ap", "serialNumber", f"AP {serial} not in venue")
            store.add_ap_group(group)
            for serial in serials:
                store.move_ap(serial, venue_id, group.id)

        rid = sim.submit(ctx, "AddApGroup", apply, obj="apGroup", on_done=release)
        if v1_1:  # EntityIdOperationResponse
            return JSONResponse(
                {"requestId": rid, "response": {"id": group.id}}, status_code=202, media_type=V1_1
            )
        return accepted(rid)

    async def query_ap_groups(ctx: Ctx) -> Response:
        spec = await ctx.model(QuerySpec)
        store = sim.store
        venues = spec.filters.get("venueId")
        rows: Any = narrow(store.ap_groups, spec.filters)
        if "id" not in spec.filters and isinstance(venues, list) and len(venues) == 1:
            rows = [store.ap_groups[g] for g in store.groups_by_venue.get(str(venues[0]), ())]
        return JSONResponse(page_a(rows, spec, group_row))

    async def get_ap_group(ctx: Ctx) -> Response:
        group = sim.store.ap_groups.get(ctx.params["apGroupId"])
        if group is None or group.venueId != ctx.params["venueId"]:
            raise not_found("AP group", ctx.params["apGroupId"])
        out = {"id": group.id, "name": group.name, "isDefault": group.isDefault,
               "apSerialNumbers": sorted(sim.store.aps_by_group.get(group.id, ()))}  # fmt: skip
        if group.description:
            out["description"] = group.description
        return JSONResponse(out)

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
        return JSONResponse(page_a(rows, spec, ap_row, ("serialNumber",)))

    async def get_ap(ctx: Ctx) -> Response:
        ap = ap_or_404(ctx.params["venueId"], ctx.params["serial"])
        return JSONResponse({"name": ap.name, "model": ap.model})

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
        return JSONResponse({"useVenueSettings": ap.useVenueSettings})

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
            port = ap.lanPorts[port_id]
            if port.type == "ACCESS" and set(vlans) != {body.overwriteUntagId}:
                raise validation_failure(
                    "lanPort",
                    "overwriteVlanMembers",
                    "An ACCESS port carries only its untagged VLAN",
                )
            port.untagId = body.overwriteUntagId
            port.vlanMembers, port.enabled = members, body.enabled

        return accepted(sim.submit(ctx, "UpdateApLanPortSettings", apply, obj="lanPort"))

    async def get_lan_port(ctx: Ctx) -> Response:
        ap = ap_or_404(ctx.params["venueId"], ctx.params["serial"])
        port = ap.lanPorts.get(ctx.params["portId"])
        if port is None:
            raise not_found("LAN port", ctx.params["portId"])
        return JSONResponse(port_settings(port))

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
