"""A simulator's end state per unit, by names: ids differ between contenders and
the way there differs too (an AP group created with its APs or filled by moves,
passphrases by CSV or one by one), the end state must not."""

from __future__ import annotations

from typing import Any

from benchmarks.makespan.workload import UnitWants
from workflows.sim import Simulator


def normalize(sim: Simulator, units: list[UnitWants]) -> dict[str, Any]:
    """unit -> its APs' groups, network (SSID, VLAN, security, pool, activated
    groups per venue), pool (group, settings, passphrase usernames) and the LAN
    port settings of its APs. No secret is read."""
    sim.settle()
    store = sim.store
    group_names = {g.id: g.name for g in store.ap_groups.values()}
    venue_names = {v.id: v.name for v in store.venues.values()}
    out: dict[str, Any] = {}
    for u in units:
        aps = {s: store.aps.get(s) for s in u.serials}
        out[u.key] = {
            "ap_groups": {s: group_names.get(a.apGroupId) if a else None for s, a in aps.items()},
            "network": _network(sim, u.network, group_names, venue_names),
            "pool": _pool(sim, u.pool),
            "lan_ports": {
                s: None if a is None else {
                    "useVenueSettings": a.useVenueSettings,
                    "ports": {p.portId: [p.untagId, p.vlanMembers, p.enabled]
                              for p in a.lanPorts.values()},
                }
                for s, a in aps.items()
            },
        }  # fmt: skip
    return out


def _network(
    sim: Simulator, name: str, group_names: dict[str, str], venue_names: dict[str, str]
) -> dict[str, Any] | None:
    store = sim.store
    net = store.networks.get(store.network_by_name.get(name, ""))
    if net is None:
        return None
    pool = store.pools.get(net.dpskServiceId or "")
    venues = {}
    for venue_id in sorted(store.activated_venues.get(net.id, ())):
        act = store.activations[(venue_id, net.id)]
        venues[venue_names.get(venue_id, venue_id)] = {
            "all_groups": act.isAllApGroups,
            "groups": sorted(group_names.get(g, g) for g in act.apGroupIds),
        }
    return {
        "type": net.type,
        "ssid": net.wlan.get("ssid"),
        "vlan": net.wlan.get("vlanId"),
        "security": net.wlan.get("wlanSecurity"),
        "pool": pool.name if pool is not None else None,
        "venues": venues,
    }


def _pool(sim: Simulator, name: str) -> dict[str, Any] | None:
    store = sim.store
    pool = store.pools.get(store.pool_by_name.get(name, ""))
    if pool is None:
        return None
    group = store.identity_groups.get(pool.identityGroupId)
    return {
        "identity_group": group.name if group is not None else None,
        "identities": len(group.identityIds) if group is not None else None,
        "format": pool.passphraseFormat,
        "length": pool.passphraseLength,
        "device_limit": pool.deviceCountLimit,
        "usernames": sorted(p.username for p in pool.passphrases.values()),
        "vlans": sorted({p.vlanId for p in pool.passphrases.values()}, key=str),
    }


def differences(reference: dict[str, Any], other: dict[str, Any], limit: int = 3) -> list[str]:
    """Where `other` differs from `reference` on the units `other` ran."""
    out = []
    for unit, state in other.items():
        want = reference.get(unit)
        if want == state:
            continue
        keys = [k for k in state if state.get(k) != (want or {}).get(k)]
        out.append(f"unit {unit}: {', '.join(keys) or 'missing'}")
        if len(out) >= limit:
            break
    return out
