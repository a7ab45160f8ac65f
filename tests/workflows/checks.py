"""Assertions on the simulator's store: every unit's resources present and linked."""

from __future__ import annotations

from typing import Any

from workflows.sim import Simulator

WRITE_METHODS = ("POST", "PUT", "DELETE")


def writes(stats: dict[str, Any]) -> dict[str, int]:
    """Requests that change the tenant (queries, token and activity reads excluded)."""
    out = {}
    for route, n in stats["requests"].items():
        method, _, path = route.partition(" ")
        if method in WRITE_METHODS and not path.endswith("/query") and "oauth2" not in path:
            out[route] = n
    return out


def shape(sim: Simulator) -> dict[str, Any]:
    """The tenant's content, ids included (to compare before / after cleanup)."""
    s = sim.store
    return {
        "groups": sorted((g.id, g.name) for g in s.ap_groups.values()),
        "aps": sorted((a.serialNumber, a.apGroupId) for a in s.aps.values()),
        "networks": sorted(s.networks),
        "activations": sorted(s.activations),
        "identity": sorted(s.identity_groups),
        "pools": sorted(s.pools),
        "passphrases": s.passphrase_count,
    }


def check_unit(sim: Simulator, unit: Any, *, dpsk: bool, passphrases: int = 1) -> None:
    s = sim.store
    venue = sim.venue_id
    n = unit.unit_number
    gid = s.group_by_name[(venue, f"{n}-APG")]
    assert {a for a in unit.ap_serials} <= s.aps_by_group[gid], n
    net = s.networks[s.network_by_name[f"{n}-{unit.ssid_name}"]]
    assert net.wlan["ssid"] == unit.ssid_name
    assert net.wlan["vlanId"] == unit.default_vlan
    assert net.wlan["wlanSecurity"] == unit.security_type.r1_wlan_security
    act = s.activations[(venue, net.id)]
    assert not act.isAllApGroups and act.apGroupIds == [gid]
    if not dpsk:
        assert net.type == "psk"
        secret = unit.ssid_password.get_secret_value()
        wpa3 = net.wlan["wlanSecurity"] in ("WPA3", "WPA23Mixed")
        assert net.wlan.get("saePassphrase" if wpa3 else "passphrase") == secret
        only_sae = net.wlan["wlanSecurity"] == "WPA3"
        assert net.wlan.get("passphrase") == (None if only_sae else secret)
        return
    assert net.type == "dpsk"
    pool = s.pools[s.pool_by_name[f"{n}-DPSK"]]
    assert net.dpskServiceId == pool.id and net.id in pool.networkIds
    group = s.identity_groups[s.identity_by_name[f"{n}-IDG"]]
    assert pool.identityGroupId == group.id and group.dpskPoolId == pool.id
    assert len(pool.passphrases) == passphrases
    if unit.ssid_password is not None:
        assert unit.ssid_password.get_secret_value() in pool.by_value
