"""Phase 0's picture of the tenant: one paged bulk read per resource type.

`load_inventory` never reads per unit: venues, the venue's AP groups and
APs, Wi-Fi networks, identity groups and DPSK pools each come from one
paged query for the whole job. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.errors import PermanentError
from workflows.r1 import Ap, ApGroup, DpskPool, IdentityGroup, R1Client, Venue, WifiNetwork
from workflows.r1ctx import client_of, metering

KINDS = ("venues", "ap_groups", "aps", "networks", "identity_groups", "pools")


@dataclass
class Inventory:
    venue: Venue | None = None
    venue_error: str | None = None
    ap_groups: dict[str, ApGroup] = field(default_factory=dict)
    aps: dict[str, Ap] = field(default_factory=dict)
    networks: dict[str, WifiNetwork] = field(default_factory=dict)
    identity_groups: dict[str, IdentityGroup] = field(default_factory=dict)
    pools: dict[str, DpskPool] = field(default_factory=dict)
    calls: int = 0

    # -- lookups -------------------------------------------------------------

    @property
    def venue_id(self) -> str | None:
        return self.venue.id if self.venue else None

    def group_by_name(self, name: str) -> ApGroup | None:
        return next((g for g in self.ap_groups.values() if g.name == name), None)

    def default_group(self) -> ApGroup | None:
        return next((g for g in self.ap_groups.values() if g.is_default), None)

    def network_by_name(self, name: str) -> WifiNetwork | None:
        return next((n for n in self.networks.values() if n.name == name), None)

    def identity_by_name(self, name: str) -> IdentityGroup | None:
        return next((g for g in self.identity_groups.values() if g.name == name), None)

    def pool_by_name(self, name: str) -> DpskPool | None:
        return next((p for p in self.pools.values() if p.name == name), None)

    def ap(self, ident: str) -> Ap | None:
        """An AP of the venue by serial, or by name."""
        found = self.aps.get(ident) or self.aps.get(ident.upper())
        if found is not None:
            return found
        return self._ap_names().get(ident)

    def _ap_names(self) -> dict[str, Ap]:
        cache = self.__dict__.get("_names")
        if cache is None:
            cache = {a.name: a for a in self.aps.values() if a.name}
            self.__dict__["_names"] = cache
        return cache

    def ssid_count(self, group_id: str) -> int:
        """SSIDs the group broadcasts now: venue-wide activations plus its own."""
        vid = self.venue_id
        count = 0
        for net in self.networks.values():
            for va in venue_ap_groups(net):
                if va.get("venueId") == vid and (
                    va.get("isAllApGroups") or group_id in (va.get("apGroupIds") or [])
                ):
                    count += 1
        return count


def venue_ap_groups(network: WifiNetwork) -> list[dict[str, Any]]:
    raw = getattr(network, "venueApGroups", None) or (network.model_extra or {}).get(
        "venueApGroups"
    )
    return raw if isinstance(raw, list) else []


async def resolve_venue(client: R1Client, venue: str) -> Venue:
    """The venue by id or by name (one bulk query)."""
    venues = await client.list_venues()
    for v in venues:
        if v.id == venue:
            return v
    matches = [v for v in venues if v.name == venue]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise PermanentError(f"venue name {venue!r} is ambiguous ({len(matches)} venues)")
    raise PermanentError(f"venue {venue!r} not found")


async def load_inventory(resources: Any, venue: str, kinds: tuple[str, ...] = KINDS) -> Inventory:
    client = client_of(resources)
    inv = Inventory()
    with metering() as meter:
        try:
            inv.venue = await resolve_venue(client, venue)
        except PermanentError as exc:
            inv.venue_error = exc.message
        if inv.venue is not None and "ap_groups" in kinds:
            inv.ap_groups = {g.id: g for g in await client.list_ap_groups(venue_id=inv.venue.id)}
        if inv.venue is not None and "aps" in kinds:
            inv.aps = {a.serial_number: a for a in await client.list_aps(venue_id=inv.venue.id)}
        if "networks" in kinds:
            inv.networks = {n.id: n for n in await client.list_wifi_networks()}
        if "identity_groups" in kinds:
            inv.identity_groups = {g.id: g for g in await client.list_identity_groups()}
        if "pools" in kinds:
            inv.pools = {p.id: p for p in await client.list_dpsk_pools()}
    inv.calls = meter.calls
    return inv
