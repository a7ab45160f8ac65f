"""Delete ordering, the 15-SSID and 64-network limits, AP groups and LAN ports."""

from __future__ import annotations

import httpx
import pytest

from tests.sim.helpers import write_fails, write_ok
from workflows.sim import SimConfig, Simulator

pytestmark = pytest.mark.anyio


async def _network(c: httpx.AsyncClient, h: dict, name: str, kind: str = "dpsk") -> str:
    wlan = {"ssid": name, "wlanSecurity": "WPA2Personal", "vlanId": 10}
    if kind == "psk":
        wlan["passphrase"] = "correct horse"
    body = await write_ok(c, h, "POST", "/wifiNetworks", json={"name": name, "type": kind,
                                                               "wlan": wlan})
    return body["response"]["id"]


async def _group_and_pool(c: httpx.AsyncClient, h: dict, name: str) -> tuple[str, str]:
    gid = (await write_ok(c, h, "POST", "/identityGroups", json={"name": name}))["id"]
    pid = (await write_ok(c, h, "POST", f"/identityGroups/{gid}/dpskServices",
                          json={"name": name, "passphraseFormat": "MOST_SECURED",
                                "passphraseLength": 12}))["id"]
    return gid, pid


async def test_full_teardown_order(sim: Simulator, sim_client: httpx.AsyncClient,
                                   sim_headers: dict) -> None:
    c, h, venue = sim_client, sim_headers, sim.venue_id
    gid, pid = await _group_and_pool(c, h, "unit-1")
    nid = await _network(c, h, "unit-1")
    await write_ok(c, h, "PUT", f"/wifiNetworks/{nid}/dpskServices/{pid}")
    await write_ok(c, h, "POST", f"/dpskServices/{pid}/passphrases",
                   json={"username": "u1", "passphrase": "abcdefgh1"})
    ap_group = (await write_ok(c, h, "POST", f"/venues/{venue}/apGroups",
                               json={"name": "unit-1"}))["id"]
    serial = next(iter(sim.store.aps))
    await write_ok(c, h, "PUT", f"/venues/{venue}/apGroups/{ap_group}/aps/{serial}")
    await write_ok(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nid}", json={
        "venueId": venue, "networkId": nid, "isAllApGroups": False,
        "apGroups": [{"apGroupId": ap_group}], "scheduler": {"type": "ALWAYS_ON"}})

    # every delete out of order fails its activity with the reason
    assert await write_fails(c, h, "DELETE", f"/venues/{venue}/apGroups/{ap_group}") == [
        "Cannot delete an AP group that still has APs"]
    assert "still activated" in (await write_fails(c, h, "DELETE", f"/wifiNetworks/{nid}"))[0]
    assert "still has passphrases" in (await write_fails(c, h, "DELETE",
                                                         f"/dpskServices/{pid}"))[0]
    assert "has a DPSK service" in (await write_fails(c, h, "DELETE",
                                                      f"/identityGroups/{gid}"))[0]

    # in reverse dependency order everything goes
    default = sim.store.default_group[venue]
    await write_ok(c, h, "PUT", f"/venues/{venue}/apGroups/{default}/aps/{serial}")
    await write_ok(c, h, "DELETE", f"/venues/{venue}/apGroups/{ap_group}")
    await write_ok(c, h, "DELETE", f"/venues/{venue}/wifiNetworks/{nid}")
    await write_ok(c, h, "DELETE", f"/wifiNetworks/{nid}")
    ids = [p["id"] for p in (await c.post(f"/dpskServices/{pid}/passphrases/query",
                                          headers=h, json={})).json()["data"]]
    await write_ok(c, h, "DELETE", f"/dpskServices/{pid}/passphrases", json=ids)
    await write_ok(c, h, "DELETE", f"/dpskServices/{pid}")
    # the passphrase's identity stays (as in R1) and keeps the group until deleted
    assert "has identities" in (await write_fails(c, h, "DELETE", f"/identityGroups/{gid}"))[0]
    identities = (await c.get(f"/identityGroups/{gid}/identities", headers=h)).json()
    assert [i["dpskGuid"] for i in identities] == ids
    await write_ok(c, h, "DELETE", f"/identityGroups/{gid}/identities",
                   json=[i["id"] for i in identities])
    await write_ok(c, h, "DELETE", f"/identityGroups/{gid}")
    counts = sim.stats()["resources"]
    assert counts["identityGroups"] == counts["dpskServices"] == counts["wifiNetworks"] == 0
    assert counts["apGroups"] == 1 and counts["passphrases"] == 0


async def test_unknown_ids_404(sim: Simulator, sim_client: httpx.AsyncClient,
                               sim_headers: dict) -> None:
    for method, url in [("DELETE", "/wifiNetworks/nope"), ("DELETE", "/identityGroups/nope"),
                        ("DELETE", "/dpskServices/nope"), ("GET", "/venues/nope"),
                        ("POST", "/identityGroups/nope/dpskServices"),
                        ("PUT", f"/venues/{sim.venue_id}/apGroups/nope/aps/123")]:
        r = await sim_client.request(method, url, headers=sim_headers, json={"name": "x"})
        assert r.status_code == 404, (method, url)
        assert r.json()["errors"][0]["message"]


async def test_fifteen_ssids_per_ap_group(sim: Simulator, sim_client: httpx.AsyncClient,
                                          sim_headers: dict) -> None:
    c, h, venue = sim_client, sim_headers, sim.venue_id
    g1 = (await write_ok(c, h, "POST", f"/venues/{venue}/apGroups", json={"name": "g1"}))["id"]
    g2 = (await write_ok(c, h, "POST", f"/venues/{venue}/apGroups", json={"name": "g2"}))["id"]
    nets = [await _network(c, h, f"net-{i:02d}", "psk") for i in range(17)]
    # 10 venue-wide networks count against every group, g1 gets 5 more of its own
    for n in nets[:10]:
        await write_ok(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{n}",
                       json={"isAllApGroups": True})
    for n in nets[10:15]:
        await write_ok(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{n}",
                       json={"isAllApGroups": False, "apGroups": [g1]})
    assert sim.store.ssid_count(g1) == 15
    # a 16th on g1 fails; on g2 it fits; venue-wide fails because g1 is full
    msgs = await write_fails(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nets[15]}",
                             json={"isAllApGroups": False, "apGroups": [{"apGroupId": g1}]})
    assert "maximum of 15 SSIDs" in msgs[0] and "g1" in msgs[0]
    await write_ok(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nets[15]}",
                   json={"isAllApGroups": False, "apGroups": [g2]})
    msgs = await write_fails(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nets[16]}",
                             json={"isAllApGroups": True})
    assert "maximum of 15 SSIDs" in msgs[0]
    # re-activating an already counted network is not a 16th SSID
    await write_ok(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nets[10]}",
                   json={"isAllApGroups": False, "apGroups": [g1]})
    # the network query reports where each network is active
    r = await c.post("/wifiNetworks/query", headers=h,
                     json={"filters": {"name": ["net-10"]}, "page": 1, "pageSize": 10})
    assert r.json()["data"][0]["venueApGroups"] == [
        {"venueId": venue, "isAllApGroups": False, "apGroupIds": [g1]}]


async def test_sixty_four_networks_per_pool() -> None:
    sim = Simulator(SimConfig(max_networks_per_pool=64))
    from tests.fixtures_sim import sim_client_for
    from tests.sim.helpers import token

    c = sim_client_for(sim)
    h = await token(c)
    _, pid = await _group_and_pool(c, h, "shared")
    nets = [await _network(c, h, f"n{i}") for i in range(65)]
    for n in nets[:64]:
        await write_ok(c, h, "PUT", f"/wifiNetworks/{n}/dpskServices/{pid}")
    msgs = await write_fails(c, h, "PUT", f"/wifiNetworks/{nets[64]}/dpskServices/{pid}")
    assert msgs == ["A DPSK service serves at most 64 networks"]
    # rebinding an already bound network is fine
    await write_ok(c, h, "PUT", f"/wifiNetworks/{nets[0]}/dpskServices/{pid}")
    psk = await _network(c, h, "psk-net", "psk")
    _, pid2 = await _group_and_pool(c, h, "other")
    assert "Only DPSK" in (await write_fails(c, h, "PUT",
                                             f"/wifiNetworks/{psk}/dpskServices/{pid2}"))[0]


async def test_one_pool_per_identity_group(sim_client: httpx.AsyncClient,
                                           sim_headers: dict) -> None:
    gid, _ = await _group_and_pool(sim_client, sim_headers, "g")
    msgs = await write_fails(sim_client, sim_headers, "POST",
                             f"/identityGroups/{gid}/dpskServices",
                             json={"name": "second", "passphraseFormat": "NUMBERS_ONLY",
                                   "passphraseLength": 8})
    assert msgs == ["Identity group already has a DPSK service"]


async def test_ap_group_with_serials_and_ap_query(sim: Simulator, sim_client: httpx.AsyncClient,
                                                  sim_headers: dict) -> None:
    c, h, venue = sim_client, sim_headers, sim.venue_id
    serials = list(sim.store.aps)[:3]
    gid = (await write_ok(c, h, "POST", f"/venues/{venue}/apGroups",
                          json={"name": "unit-7", "apSerialNumbers": serials}))["id"]
    r = await c.post("/venues/aps/query", headers=h, json={
        "fields": ["serialNumber", "apGroupId"], "filters": {"apGroupId": [gid]},
        "page": 1, "pageSize": 100})
    rows = r.json()["data"]
    assert sorted(a["serialNumber"] for a in rows) == sorted(serials)
    assert set(rows[0]) == {"serialNumber", "apGroupId"}
    r = await c.post("/venues/apGroups/query", headers=h,
                     json={"filters": {"venueId": [venue], "isDefault": [False]}})
    assert [g["name"] for g in r.json()["data"]] == ["unit-7"]
    r = await c.post(f"/venues/{venue}/apGroups", headers=h, json={"name": "x"})
    assert r.status_code == 400  # name must be 2-64 characters


async def test_lan_ports_need_the_override_first(sim: Simulator, sim_client: httpx.AsyncClient,
                                                 sim_headers: dict) -> None:
    c, h, venue = sim_client, sim_headers, sim.venue_id
    ap = next(a for a in sim.store.aps.values() if a.model == "H510")
    url = f"/venues/{venue}/aps/{ap.serialNumber}"
    port = {"overwriteUntagId": 100, "overwriteType": "ACCESS", "overwriteVlanMembers": "100"}
    msgs = await write_fails(c, h, "PUT", f"{url}/lanPorts/2/settings", json=port)
    assert "useVenueSettings" in msgs[0]
    await write_ok(c, h, "PUT", f"{url}/lanPortSpecificSettings", json={"useVenueSettings": False})
    await write_ok(c, h, "PUT", f"{url}/lanPorts/2/settings", json=port)
    await write_ok(c, h, "PUT", f"{url}/lanPorts/3/settings", json={
        "overwriteUntagId": 1, "overwriteType": "TRUNK", "overwriteVlanMembers": "100,200-300"})
    bad = {"overwriteUntagId": 100, "overwriteType": "ACCESS", "overwriteVlanMembers": "100,200"}
    assert "ACCESS" in (await write_fails(c, h, "PUT", f"{url}/lanPorts/4/settings",
                                          json=bad))[0]
    body = (await c.get(f"{url}/lanPortSpecificSettings", headers=h)).json()
    assert body["useVenueSettings"] is False
    assert body["lanPorts"][1] == {"portId": "2", "type": "ACCESS", "untagId": 100,
                                   "vlanMembers": "100", "enabled": True, "isUplink": False}
    assert body["lanPorts"][2]["vlanMembers"] == "100,200-300"
    # an R550 has no port 5
    r550 = next(a for a in sim.store.aps.values() if a.model == "R550")
    r = await c.put(f"/venues/{venue}/aps/{r550.serialNumber}/lanPorts/5/settings",
                    json=port, headers=h)
    assert r.status_code == 404
