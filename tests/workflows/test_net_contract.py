"""Wi-Fi networks, AP groups and activation as RUCKUS's documents define them:
WPA3 is PSK-only, Phase 0 holds units to the documents' limits (located by
unit field), activation is per AP group, and name lookups never adopt a
neighbour whose name merely shares a prefix."""

from __future__ import annotations

import pytest

from engine.models import JobStatus
from tests.workflows.checks import check_unit
from tests.workflows.rig import rig, sim_for, units
from workflows.inputs import UnitInput
from workflows.sim.model import Network

pytestmark = pytest.mark.anyio

GROUP_ROUTE = "PUT /venues/{venueId}/wifiNetworks/{networkId}/apGroups/{apGroupId}"
VENUE_ROUTE = "PUT /venues/{venueId}/wifiNetworks/{networkId}"
ROW_FIELDS = {"id", "name", "description", "ssid", "vlan", "nwType", "nwSubType",
              "securityProtocol", "venueApGroups"}  # fmt: skip


def unit(n: str, security: str, **kw: object) -> UnitInput:
    data = {"unit_number": n, "ap_serials": [], "ssid_name": f"Unit-{n}",
            "ssid_password": f"pass-{n}-word", "security_type": security,
            "default_vlan": int(n[:3])}  # fmt: skip
    return UnitInput.model_validate({**data, **kw})


async def test_psk_run_with_wpa2_wpa3_and_mixed_units_activates_per_ap_group(redis, prefix):
    us = [unit("201", "WPA2"), unit("202", "WPA3"), unit("203", "WPA2/WPA3")]
    serials = [v.ap_serials for v in units(3)]
    us = [u.model_copy(update={"ap_serials": s}) for u, s in zip(us, serials, strict=True)]
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_psk", us)
        assert plan.summary.conflicts == 0
        _, view = await r.run("per_unit_psk", us)
        assert view.status == JobStatus.COMPLETED
        for u in us:
            check_unit(sim, u, dpsk=False)
        wlans = {n.name: n.wlan for n in sim.store.networks.values()}
        assert wlans["202-Unit-202"]["wlanSecurity"] == "WPA3"  # not WPA3Personal
        assert "passphrase" not in wlans["202-Unit-202"]  # WPA3: saePassphrase only
        assert wlans["203-Unit-203"]["wlanSecurity"] == "WPA23Mixed"
        reqs = r.stats()["requests"]
        assert reqs[VENUE_ROUTE] == 3 and reqs[GROUP_ROUTE] == 3  # relation, then the group
        again = await r.plan("per_unit_psk", us)
        assert again.summary.create == again.summary.conflicts == 0


async def test_wpa3_unit_in_dpsk_workflow_is_a_phase0_conflict(redis, prefix):
    us = [unit("301", "WPA2", ssid_password=None), unit("302", "WPA3", ssid_password=None)]
    sim = sim_for(us)
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_dpsk", us)
        phases = {u.unit: u.phases for u in plan.units}
        assert phases["301"]["network"].action == "create"
        bad = phases["302"]["network"]
        assert bad.action == "conflict"
        assert bad.data["fields"] == ["security_type"]
        assert "WPA3 is not available" in bad.detail and "per_unit_psk" in bad.detail
        assert sim.stats()["resources"]["wifiNetworks"] == 0


async def test_phase0_limit_conflicts_are_located(redis, prefix):
    secret = "has-$(subshell)"
    us = [
        unit("401", "WPA2", ssid_name="x"),  # an SSID of one character
        unit("402", "WPA2", ssid_password=secret),  # `$(` is refused by the pattern
        unit("4030000000000000000000000", "WPA2"),  # name over 32 characters
        unit("404", "WPA2", ap_serials=["ABC123"]),  # neither an AP name nor an R1 serial
    ]
    sim = sim_for([])
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_psk", us)
        phases = {u.unit: u.phases for u in plan.units}
        got = {k: p["network"] for k, p in phases.items()}
        assert got["401"].data["fields"] == ["ssid_name"] and "'x'" in got["401"].detail
        assert got["402"].data["fields"] == ["ssid_password"]
        assert secret not in got["402"].detail
        assert got["4030000000000000000000000"].data["fields"] == ["network name"]
        aps = phases["404"]["assign_aps"]
        assert aps.action == "conflict" and aps.data["fields"] == ["ap_serials"]
        assert "12 digits" in aps.detail


async def test_network_query_rows_filters_and_exact_name_lookup(redis, prefix):
    sim = sim_for([])
    store = sim.store
    for i in range(12):  # net-1, net-10 .. net-20: a search for "net-1" matches many
        name = "net-1" if i == 0 else f"net-{i + 9}"
        store.add_network(
            Network(
                f"id-{i}",
                name,
                "psk",
                {"ssid": name, "vlanId": 5, "wlanSecurity": "WPA3", "saePassphrase": "x" * 9},
            )
        )
    async with rig(redis, prefix, sim) as r:
        found = [
            n async for n in r.client.iter_wifi_networks(filters={"name": ["net-1"]}, page_size=3)
        ]
        assert [(n.id, n.type, n.security_protocol, n.vlan) for n in found] == [
            ("id-0", "psk", "WPA3", 5)
        ]
        reqs = r.stats()["requests"]
        assert reqs["POST /wifiNetworks/query"] >= 4  # every page of the search was read
        with pytest.raises(ValueError, match="ignores"):
            await r.client.list_wifi_networks(filters={"ssid": ["net-1"]})
        body = await r.client.send_json(
            "POST",
            "/wifiNetworks/query",
            json={"filters": {"name": ["net-1"]}, "page": 1, "pageSize": 100},
        )
        assert body["totalCount"] == 12  # R1 ignores an unknown filter key: all rows
        assert all(set(row) <= ROW_FIELDS for row in body["data"])
        body = await r.client.send_json(
            "POST",
            "/wifiNetworks/query",
            json={"fields": ["id", "ssid"], "filters": {"id": ["id-3"]}, "page": 1, "pageSize": 10},
        )
        assert body["data"] == [{"id": "id-3", "ssid": "net-12"}]
