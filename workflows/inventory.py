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

    def _by_name(self, kind: str) -> dict[str, Any]:
        """Name index of one resource type, built once (plans look up per unit)."""
        key = f"_by_name_{kind}"
        index = self.__dict__.get(key)
        if index is None:
            index = {}
            for item in getattr(self, kind).values():
                if item.name and not getattr(item, "is_default", False):
                    index.setdefault(item.name, item)
            self.__dict__[key] = index
        return index

    def group_by_name(self, name: str) -> ApGroup | None:
        return self._by_name("ap_groups").get(name)

    def default_group(self) -> ApGroup | None:
        return next((g for g in self.ap_groups.values() if g.is_default), None)

    def network_by_name(self, name: str) -> WifiNetwork | None:
        return self._by_name("networks").get(name)

    def identity_by_name(self, name: str) -> IdentityGroup | None:
        return self._by_name("identity_groups").get(name)

    def pool_by_name(self, name: str) -> DpskPool | None:
        return self._by_name("pools").get(name)

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
        per_group, venue_wide = self._ssids()
        return venue_wide + per_group.get(group_id, 0)

    def venue_wide_ssids(self) -> int:
        return self._ssids()[1]

    def _ssids(self) -> tuple[dict[str, int], int]:
        cached = self.__dict__.get("_ssid_counts")
        if cached is None:
            vid, per_group, venue_wide = self.venue_id, {}, 0
            for net in self.networks.values():
                for va in venue_ap_groups(net):
                    if va.get("venueId") != vid:
                        continue
                    if va.get("isAllApGroups"):
                        venue_wide += 1
                        continue
                    for gid in va.get("apGroupIds") or []:
                        per_group[gid] = per_group.get(gid, 0) + 1
            cached = self.__dict__["_ssid_counts"] = (per_group, venue_wide)
        return cached


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
