"""Venues, AP groups, APs and per-AP LAN port overrides.

AP group creation is sent as `application/vnd.ruckus.v1.1+json` (wifi_api
createAPGroup): its body is VenueApGroup (`apSerialNumbers` as plain
strings, so the unit's APs go in with the group) and its answer
EntityIdOperationResponse carries the new group's id. Under plain
`application/json` R1 answers a requestId only and the group would have to be
read back by name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from workflows.r1.models import Accepted, Ap, ApGroup, Venue
from workflows.r1.pagination import collect, iter_query, query_body
from workflows.r1.transport import R1Transport

AP_GROUP_MEDIA = "application/vnd.ruckus.v1.1+json"
"""createAPGroup's media type whose answer carries the new group's id."""
AP_FIELDS = ["serialNumber", "name", "apGroupId", "venueId", "model"]
"""ApQueryData fields the workflows read."""
AP_GROUP_FIELDS = ["id", "name", "description", "isDefault", "venueId"]
"""ApGroupQueryData fields the workflows read."""


def _filters(base: Mapping[str, Any] | None, **named: Any) -> dict[str, Any]:
    out = dict(base or {})
    out.update({k: v for k, v in named.items() if v is not None})
    return out


class VenuesApi(R1Transport):
    # -- venues ---------------------------------------------------------------

    async def get_venue(self, venue_id: str) -> Venue:
        return Venue.model_validate(
            await self.send_json("GET", "/venues/{venueId}", path={"venueId": venue_id})
        )

    async def iter_venues(
        self,
        *,
        search: str | None = None,
        filters: Mapping[str, Any] | None = None,
        page_size: int = 500,
    ) -> AsyncIterator[Venue]:
        body = query_body(search=search, filters=filters)
        async for raw in iter_query(self, "/venues/query", body, page_size=page_size):
            yield Venue.model_validate(raw)

    async def list_venues(self, **kwargs: Any) -> list[Venue]:
        return await collect(self.iter_venues(**kwargs))

    # -- AP groups ------------------------------------------------------------

    async def create_ap_group(
        self,
        venue_id: str,
        name: str,
        *,
        description: str | None = None,
        ap_serials: Iterable[str] | None = None,
    ) -> Accepted:
        """Name 2-64 chars (VenueApGroup pattern); a duplicate name FAILs the activity.

        `ap_serials` (APs of the venue) move into the new group with it; the
        answer carries the new id (`response.id`, v1.1 media type).
        """
        body: dict[str, Any] = {"name": name}
        if description:
            body["description"] = description
        if ap_serials:
            body["apSerialNumbers"] = list(ap_serials)
        return await self.write(
            "POST", "/venues/{venueId}/apGroups", path={"venueId": venue_id}, json=body,
            headers={"Content-Type": AP_GROUP_MEDIA},
        )  # fmt: skip

    async def find_ap_group(self, venue_id: str, name: str) -> ApGroup | None:
        """The venue's AP group named exactly `name` (search, then exact match, all pages)."""
        async for group in self.iter_ap_groups(venue_id=venue_id, search=name):
            if group.name == name and not group.is_default:
                return group
        return None

    async def iter_ap_groups(
        self,
        *,
        venue_id: str | None = None,
        search: str | None = None,
        filters: Mapping[str, Any] | None = None,
        page_size: int = 500,
    ) -> AsyncIterator[ApGroup]:
        body = query_body(
            search=search, filters=_filters(filters, venueId=venue_id), fields=AP_GROUP_FIELDS
        )
        if search:
            body["searchTargetFields"] = ["name"]
        async for raw in iter_query(self, "/venues/apGroups/query", body, page_size=page_size):
            yield ApGroup.model_validate(raw)

    async def list_ap_groups(self, **kwargs: Any) -> list[ApGroup]:
        return await collect(self.iter_ap_groups(**kwargs))

    async def delete_ap_group(self, venue_id: str, group_id: str) -> Accepted:
        """Refused while the group still has APs (an error or a FAILed activity)."""
        return await self.write(
            "DELETE",
            "/venues/{venueId}/apGroups/{apGroupId}",
            path={"venueId": venue_id, "apGroupId": group_id},
        )

    # -- APs --------------------------------------------------------------------

    async def iter_aps(
        self,
        *,
        venue_id: str | None = None,
        ap_group_id: str | None = None,
        serials: Iterable[str] | None = None,
        filters: Mapping[str, Any] | None = None,
        page_size: int = 500,
    ) -> AsyncIterator[Ap]:
        flt = _filters(
            filters,
            venueId=venue_id,
            apGroupId=ap_group_id,
            serialNumber=list(serials) if serials is not None else None,
        )
        body = query_body(fields=AP_FIELDS, filters=flt)
        async for raw in iter_query(self, "/venues/aps/query", body, page_size=page_size):
            yield Ap.model_validate(raw)

    async def list_aps(self, **kwargs: Any) -> list[Ap]:
        return await collect(self.iter_aps(**kwargs))

    async def assign_ap_to_group(self, venue_id: str, group_id: str, serial: str) -> Accepted:
        return await self.write(
            "PUT",
            "/venues/{venueId}/apGroups/{apGroupId}/aps/{serialNumber}",
            path={"venueId": venue_id, "apGroupId": group_id, "serialNumber": serial},
        )

    # -- per-AP LAN ports ------------------------------------------------------------

    async def set_ap_lan_port_override(
        self, venue_id: str, serial: str, *, use_venue_settings: bool = False
    ) -> Accepted:
        """Step 1 of a per-AP LAN port change: stop inheriting the venue's settings."""
        return await self.write(
            "PUT",
            "/venues/{venueId}/aps/{serialNumber}/lanPortSpecificSettings",
            path={"venueId": venue_id, "serialNumber": serial},
            json={"useVenueSettings": use_venue_settings},
        )

    async def set_ap_lan_port(
        self,
        venue_id: str,
        serial: str,
        port_id: str | int,
        *,
        untag_id: int,
        vlan_members: str | None = None,
    ) -> Accepted:
        """Step 2: one port's VLANs (ApLanPortSettingsV1: `overwriteUntagId`,
        `overwriteVlanMembers` like "100,200-300", default the untagged VLAN).

        The port's type (ACCESS/TRUNK) is not a per-AP setting: it comes from
        the port's Ethernet port profile, so it is not sent.
        """
        body = {
            "overwriteUntagId": untag_id,
            "overwriteVlanMembers": vlan_members if vlan_members is not None else str(untag_id),
        }
        return await self.write(
            "PUT",
            "/venues/{venueId}/aps/{serialNumber}/lanPorts/{portId}/settings",
            path={"venueId": venue_id, "serialNumber": serial, "portId": port_id},
            json=body,
        )
