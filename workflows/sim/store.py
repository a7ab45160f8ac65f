"""The resource store: every resource by id, plus the indexes that keep each
request O(1) (names, parents, SSID budgets), whatever the tenant's size.

Mutations that R1 would reject raise `ActivityFailure`; they are called from
activity completions (see `activities.py`), never at request time.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from workflows.sim.errors import ActivityFailure, SubError, name_not_unique, validation_failure
from workflows.sim.model import (
    Activation,
    Ap,
    ApGroup,
    DpskPool,
    Identity,
    IdentityGroup,
    Network,
    Passphrase,
    Venue,
)


class Store:
    def __init__(self, max_ssids_per_ap_group: int = 15, max_networks_per_pool: int = 64) -> None:
        self.max_ssids = max_ssids_per_ap_group
        self.max_networks_per_pool = max_networks_per_pool
        self.venues: dict[str, Venue] = {}
        self.ap_groups: dict[str, ApGroup] = {}
        self.group_by_name: dict[tuple[str, str], str] = {}
        self.groups_by_venue: defaultdict[str, set[str]] = defaultdict(set)
        self.default_group: dict[str, str] = {}
        self.aps: dict[str, Ap] = {}
        self.aps_by_group: defaultdict[str, set[str]] = defaultdict(set)
        self.aps_by_venue: defaultdict[str, set[str]] = defaultdict(set)
        self.networks: dict[str, Network] = {}
        self.network_by_name: dict[str, str] = {}
        self.activations: dict[tuple[str, str], Activation] = {}
        self.activated_venues: defaultdict[str, set[str]] = defaultdict(set)
        self.venue_all: defaultdict[str, set[str]] = defaultdict(set)
        self.group_nets: defaultdict[str, set[str]] = defaultdict(set)
        self.identity_groups: dict[str, IdentityGroup] = {}
        self.identity_by_name: dict[str, str] = {}
        self.pools: dict[str, DpskPool] = {}
        self.pool_by_name: dict[str, str] = {}
        self.passphrase_count = 0
        self.identities: dict[str, Identity] = {}
        self.pending_names: Counter[tuple[str, str, str]] = Counter()
        """In-flight creates by (kind, scope, name): for duplicate-attempt accounting."""
        self.pending_ids: set[str] = set()
        """Ids handed out in a 202 whose create has not completed yet."""

    # -- counts -----------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return {
            "venues": len(self.venues),
            "apGroups": len(self.ap_groups),
            "aps": len(self.aps),
            "wifiNetworks": len(self.networks),
            "venueActivations": len(self.activations),
            "identityGroups": len(self.identity_groups),
            "dpskServices": len(self.pools),
            "networkPoolBindings": sum(1 for n in self.networks.values() if n.dpskServiceId),
            "passphrases": self.passphrase_count,
            "identities": len(self.identities),
        }

    # -- venues, AP groups, APs -------------------------------------------

    def add_venue(self, venue: Venue, default_group_id: str) -> None:
        self.venues[venue.id] = venue
        if venue.id not in self.default_group:
            self.add_ap_group(ApGroup(default_group_id, venue.id, "", "", True))

    def add_ap_group(self, group: ApGroup) -> None:
        if group.venueId not in self.venues:
            raise validation_failure("apGroup", "venueId", f"Venue {group.venueId} not found")
        key = (group.venueId, group.name)
        if not group.isDefault and key in self.group_by_name:
            raise name_not_unique("apGroup")
        self.ap_groups[group.id] = group
        self.groups_by_venue[group.venueId].add(group.id)
        if group.isDefault:
            self.default_group[group.venueId] = group.id
        else:
            self.group_by_name[key] = group.id

    def add_ap(self, ap: Ap) -> None:
        if not ap.apGroupId:
            ap.apGroupId = self.default_group[ap.venueId]
        self.aps[ap.serialNumber] = ap
        self.aps_by_group[ap.apGroupId].add(ap.serialNumber)
        self.aps_by_venue[ap.venueId].add(ap.serialNumber)

    def move_ap(self, serial: str, venue_id: str, group_id: str) -> None:
        ap = self.aps.get(serial)
        if ap is None:
            raise validation_failure("ap", "serialNumber", f"AP {serial} not found")
        group = self.ap_groups.get(group_id)
        if group is None or group.venueId != venue_id:
            raise validation_failure("apGroup", "id", f"AP group {group_id} not found in venue")
        if ap.venueId != venue_id:
            raise validation_failure("ap", "venueId", f"AP {serial} belongs to another venue")
        self.aps_by_group[ap.apGroupId].discard(serial)
        ap.apGroupId = group_id
        self.aps_by_group[group_id].add(serial)

    def delete_ap_group(self, group_id: str) -> None:
        group = self.ap_groups.get(group_id)
        if group is None:
            raise validation_failure("apGroup", "id", f"AP group {group_id} not found")
        if group.isDefault:
            raise validation_failure("apGroup", "id", "The default AP group cannot be deleted")
        if self.aps_by_group.get(group_id):
            raise validation_failure(
                "apGroup", "id", "Cannot delete an AP group that still has APs"
            )
        for network_id in self.group_nets.pop(group_id, set()):
            act = self.activations.get((group.venueId, network_id))
            if act is not None and group_id in act.apGroupIds:
                act.apGroupIds.remove(group_id)
        del self.ap_groups[group_id]
        self.groups_by_venue[group.venueId].discard(group_id)
        self.group_by_name.pop((group.venueId, group.name), None)
        self.aps_by_group.pop(group_id, None)

    # -- Wi-Fi networks and activations ----------------------------------

    def add_network(self, network: Network) -> None:
        if network.name in self.network_by_name:
            raise name_not_unique("wifiNetwork")
        self.networks[network.id] = network
        self.network_by_name[network.name] = network.id

    def delete_network(self, network_id: str) -> None:
        network = self.networks.get(network_id)
        if network is None:
            raise validation_failure("wifiNetwork", "id", f"Network {network_id} not found")
        if self.activated_venues.get(network_id):
            raise validation_failure(
                "wifiNetwork", "id", "Cannot delete a network that is still activated on a venue"
            )
        if network.dpskServiceId and network.dpskServiceId in self.pools:
            self.pools[network.dpskServiceId].networkIds.discard(network_id)
        del self.networks[network_id]
        self.network_by_name.pop(network.name, None)
        self.activated_venues.pop(network_id, None)

    def ssid_count(self, group_id: str, excluding: str | None = None) -> int:
        group = self.ap_groups[group_id]
        venue_wide = self.venue_all.get(group.venueId, set())
        own = self.group_nets.get(group_id, set())
        count = len(venue_wide) + len(own)
        if excluding is not None:
            count -= (excluding in venue_wide) + (excluding in own)
        return count

    def _relation(self, venue_id: str, network_id: str) -> Activation:
        if network_id not in self.networks:
            raise validation_failure("wifiNetwork", "id", f"Network {network_id} not found")
        act = self.activations.get((venue_id, network_id))
        if act is None:
            raise validation_failure(
                "wifiNetwork", "venueId", "The network is not activated on this venue"
            )
        return act

    def _check_budget(self, groups: Iterable[str], network_id: str) -> None:
        full = [g for g in groups if self.ssid_count(g, network_id) + 1 > self.max_ssids]
        if full:
            names = sorted(self.ap_groups[g].name or "default" for g in full)
            raise validation_failure(
                "apGroup",
                "wlans",
                f"AP group exceeds the maximum of {self.max_ssids} SSIDs: {', '.join(names)}",
            )

    def activate(self, act: Activation) -> None:
        """The network-venue relation (PUT VenueWifiNetwork): on all AP groups, or
        per group; switching from all groups to per group keeps no group, and a
        per-group relation keeps its groups when PUT again."""
        if act.venueId not in self.venues:
            raise validation_failure("venue", "id", f"Venue {act.venueId} not found")
        if act.networkId not in self.networks:
            raise validation_failure("wifiNetwork", "id", f"Network {act.networkId} not found")
        venue_groups = self.groups_by_venue.get(act.venueId, set())
        unknown = set(act.apGroupIds) - venue_groups
        if unknown:
            raise validation_failure(
                "apGroup", "id", f"AP groups not in venue: {', '.join(sorted(unknown))}"
            )
        old = self.activations.get((act.venueId, act.networkId))
        if not act.isAllApGroups and old is not None and not old.isAllApGroups:
            return
        self._check_budget(venue_groups if act.isAllApGroups else act.apGroupIds, act.networkId)
        self.deactivate(act.venueId, act.networkId)
        self.activations[(act.venueId, act.networkId)] = act
        self.activated_venues[act.networkId].add(act.venueId)
        if act.isAllApGroups:
            act.apGroupIds = []
            self.venue_all[act.venueId].add(act.networkId)
        else:
            for g in act.apGroupIds:
                self.group_nets[g].add(act.networkId)

    def activate_group(self, venue_id: str, network_id: str, group_id: str) -> None:
        """PUT .../apGroups/{g}: one more AP group broadcasts the network (budget checked)."""
        act = self._relation(venue_id, network_id)
        group = self.ap_groups.get(group_id)
        if group is None or group.venueId != venue_id:
            raise validation_failure("apGroup", "id", f"AP group {group_id} not in venue")
        if act.isAllApGroups or group_id in act.apGroupIds:
            return
        self._check_budget([group_id], network_id)
        act.apGroupIds.append(group_id)
        self.group_nets[group_id].add(network_id)

    def deactivate_group(self, venue_id: str, network_id: str, group_id: str) -> None:
        act = self._relation(venue_id, network_id)
        if act.isAllApGroups:
            act.isAllApGroups = False
            self.venue_all[venue_id].discard(network_id)
            act.apGroupIds = sorted(self.groups_by_venue.get(venue_id, set()))
            for g in act.apGroupIds:
                self.group_nets[g].add(network_id)
        if group_id not in act.apGroupIds:
            raise validation_failure("apGroup", "id", f"AP group {group_id} is not activated")
        act.apGroupIds.remove(group_id)
        act.settings.pop(group_id, None)
        self.group_nets[group_id].discard(network_id)

    def set_group_settings(
        self, venue_id: str, network_id: str, group_id: str, settings: dict[str, Any]
    ) -> None:
        act = self._relation(venue_id, network_id)
        if not act.isAllApGroups and group_id not in act.apGroupIds:
            raise validation_failure("apGroup", "id", f"AP group {group_id} is not activated")
        act.settings[group_id] = {**act.settings.get(group_id, {}), **settings}

    def deactivate(self, venue_id: str, network_id: str) -> bool:
        act = self.activations.pop((venue_id, network_id), None)
        if act is None:
            return False
        self.activated_venues[network_id].discard(venue_id)
        if not self.activated_venues[network_id]:
            del self.activated_venues[network_id]
        self.venue_all[venue_id].discard(network_id)
        for g in act.apGroupIds:
            self.group_nets[g].discard(network_id)
        return True

    def bind_pool(self, network_id: str, pool_id: str) -> None:
        network = self.networks.get(network_id)
        if network is None:
            raise validation_failure("wifiNetwork", "id", f"Network {network_id} not found")
        pool = self.pools.get(pool_id)
        if pool is None:
            raise validation_failure("dpskService", "id", f"DPSK service {pool_id} not found")
        if network.type != "dpsk":
            raise validation_failure(
                "wifiNetwork", "type", "Only DPSK networks take a DPSK service"
            )
        if network_id not in pool.networkIds and len(pool.networkIds) >= self.max_networks_per_pool:
            raise validation_failure(
                "dpskService",
                "networkIds",
                f"A DPSK service serves at most {self.max_networks_per_pool} networks",
            )
        if network.dpskServiceId and network.dpskServiceId in self.pools:
            self.pools[network.dpskServiceId].networkIds.discard(network_id)
        network.dpskServiceId = pool_id
        pool.networkIds.add(network_id)

    # -- identity groups, DPSK pools, passphrases ------------------------

    def add_identity_group(self, group: IdentityGroup) -> None:
        if group.name in self.identity_by_name:
            raise name_not_unique("identityGroup")
        self.identity_groups[group.id] = group
        self.identity_by_name[group.name] = group.id

    def delete_identity_group(self, group_id: str) -> None:
        group = self.identity_groups.get(group_id)
        if group is None:
            raise validation_failure("identityGroup", "id", f"Identity group {group_id} not found")
        if group.dpskPoolId and group.dpskPoolId in self.pools:
            raise validation_failure(
                "identityGroup", "id", "Cannot delete an identity group that has a DPSK service"
            )
        if group.identityIds:
            raise validation_failure(
                "identityGroup", "id", "Cannot delete an identity group that has identities"
            )
        del self.identity_groups[group_id]
        self.identity_by_name.pop(group.name, None)

    def add_pool(self, pool: DpskPool) -> None:
        group = self.identity_groups.get(pool.identityGroupId)
        if group is None:
            raise validation_failure(
                "dpskService", "identityGroupId", f"Identity group {pool.identityGroupId} not found"
            )
        if pool.name in self.pool_by_name:
            raise name_not_unique("dpskService")
        if group.dpskPoolId and group.dpskPoolId in self.pools:
            raise validation_failure(
                "identityGroup", "dpskPoolId", "Identity group already has a DPSK service"
            )
        self.pools[pool.id] = pool
        self.pool_by_name[pool.name] = pool.id
        group.dpskPoolId = pool.id

    def delete_pool(self, pool_id: str) -> None:
        pool = self.pools.get(pool_id)
        if pool is None:
            raise validation_failure("dpskService", "id", f"DPSK service {pool_id} not found")
        if pool.passphrases:
            raise validation_failure(
                "dpskService", "id", "Cannot delete a DPSK service that still has passphrases"
            )
        if pool.networkIds:
            raise validation_failure(
                "dpskService", "id", "Cannot delete a DPSK service still bound to networks"
            )
        del self.pools[pool_id]
        self.pool_by_name.pop(pool.name, None)
        group = self.identity_groups.get(pool.identityGroupId)
        if group is not None and group.dpskPoolId == pool_id:
            group.dpskPoolId = None

    def add_passphrases(self, pool_id: str, items: list[Passphrase]) -> None:
        """All or nothing: one duplicate passphrase fails the whole batch."""
        pool = self.pools.get(pool_id)
        if pool is None:
            raise validation_failure("dpskService", "id", f"DPSK service {pool_id} not found")
        seen: set[str] = set()
        errors: list[SubError] = []
        for i, p in enumerate(items):
            if p.passphrase in pool.by_value or p.passphrase in seen:
                errors.append(
                    SubError(
                        "passphrase",
                        f"passphrase[{i}]",
                        "Passphrase already exists in this DPSK service",
                    )
                )
            seen.add(p.passphrase)
        if errors:
            raise ActivityFailure(errors[:50])
        group = self.identity_groups.get(pool.identityGroupId)
        for p in items:
            pool.passphrases[p.id] = p
            pool.by_value[p.passphrase] = p.id
            if group is not None:  # R1 keeps one identity per passphrase
                self._keep(Identity(
                    str(uuid.uuid5(uuid.NAMESPACE_URL, f"dpsk:{p.id}")), group.id,
                    p.username or p.id, p.id, p.vlanId, p.createdDate or None,
                ))  # fmt: skip
        self.passphrase_count += len(items)

    def _keep(self, identity: Identity) -> None:
        group = self.identity_groups.get(identity.groupId)
        if group is not None:
            self.identities[identity.id] = identity
            group.identityIds.add(identity.id)

    def delete_identities(self, group_id: str, ids: list[str]) -> None:
        """All or nothing; a passphrase's deletion leaves its identity (as R1 does)."""
        group = self.identity_groups.get(group_id)
        if group is None:
            raise validation_failure("identityGroup", "id", f"Identity group {group_id} not found")
        missing = [i for i in ids if i not in group.identityIds]
        if missing:
            raise validation_failure(
                "identity", "id", f"Identities not found: {', '.join(missing[:20])}"
            )
        for i in set(ids):
            group.identityIds.discard(i)
            del self.identities[i]

    def delete_passphrases(self, pool_id: str, ids: list[str]) -> None:
        pool = self.pools.get(pool_id)
        if pool is None:
            raise validation_failure("dpskService", "id", f"DPSK service {pool_id} not found")
        missing = [i for i in ids if i not in pool.passphrases]
        if missing:
            raise validation_failure(
                "passphrase", "id", f"Passphrases not found: {', '.join(missing[:20])}"
            )
        for i in set(ids):
            p = pool.passphrases.pop(i)
            pool.by_value.pop(p.passphrase, None)
            self.passphrase_count -= 1

    # -- persistence ------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        return {
            "version": 1,
            "venues": [v.to_json() for v in self.venues.values()],
            "apGroups": [g.to_json() for g in self.ap_groups.values()],
            "aps": [a.to_json() for a in self.aps.values()],
            "wifiNetworks": [n.to_json() for n in self.networks.values()],
            "activations": [a.to_json() for a in self.activations.values()],
            "identityGroups": [g.to_json() for g in self.identity_groups.values()],
            "dpskServices": [p.to_json() for p in self.pools.values()],
            "passphrases": [
                {**ph.to_json(), "poolId": p.id}
                for p in self.pools.values()
                for ph in p.passphrases.values()
            ],
            "identities": [i.to_json() for i in self.identities.values()],
        }

    def restore_identities(self, rows: list[dict[str, Any]]) -> None:
        """Exactly the dumped identities (deleted ones stay deleted; those of deleted
        passphrases stay), replacing the ones loading the passphrases re-created."""
        for group in self.identity_groups.values():
            group.identityIds.clear()
        self.identities.clear()
        for row in rows:
            self._keep(Identity(
                row["id"], row["groupId"], row["name"], row.get("dpskGuid"),
                row.get("vlan"), row.get("createdAt"),
            ))  # fmt: skip
