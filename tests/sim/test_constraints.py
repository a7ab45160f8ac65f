"""Delete ordering, the 15-SSID and 64-network limits, AP groups and LAN ports."""

from __future__ import annotations

import httpx
import pytest

from tests.sim.helpers import write_fails, write_ok
from workflows.sim import SimConfig, Simulator

pytestmark = pytest.mark.anyio


async def _network(c: httpx.AsyncClient, h: dict, name: str, kind: str = "dpsk") -> str:
    wlan = {"ssid": name, "wlanSecurity": "WPA2Personal", "vlanId": 10}
    extra = {"useDpskService": True} if kind == "dpsk" else {}
    if kind == "psk":
        wlan["passphrase"] = "correct horse"
    body = await write_ok(
        c, h, "POST", "/wifiNetworks", json={"name": name, "type": kind, "wlan": wlan, **extra}
    )
    return body["response"]["id"]


async def _ap_group(c: httpx.AsyncClient, h: dict, sim: Simulator, name: str, **body) -> str:
    """Create an AP group; R1 answers only a requestId, so read the id by name."""
    answer = await write_ok(
        c, h, "POST", f"/venues/{sim.venue_id}/apGroups", json={"name": name, **body}
    )
    assert set(answer) == {"requestId"}
    return sim.store.group_by_name[(sim.venue_id, name)]


async def _on_group(c: httpx.AsyncClient, h: dict, venue: str, nid: str, gid: str) -> None:
    """Per-AP-group activation: the venue relation without groups, then the group."""
    await write_ok(
        c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nid}", json={"isAllApGroups": False}
    )
    await write_ok(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nid}/apGroups/{gid}")


async def _group_and_pool(c: httpx.AsyncClient, h: dict, name: str) -> tuple[str, str]:
    gid = (await write_ok(c, h, "POST", "/identityGroups", json={"name": name}))["id"]
    pid = (
        await write_ok(
            c,
            h,
            "POST",
            f"/identityGroups/{gid}/dpskServices",
            json={"name": name, "passphraseFormat": "MOST_SECURED", "passphraseLength": 12},
        )
    )["id"]
    return gid, pid


async def test_full_teardown_order(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    c, h, venue = sim_client, sim_headers, sim.venue_id
    gid, pid = await _group_and_pool(c, h, "unit-1")
    nid = await _network(c, h, "unit-1")
    await write_ok(c, h, "PUT", f"/wifiNetworks/{nid}/dpskServices/{pid}")
    await write_ok(
        c,
        h,
        "POST",
        f"/dpskServices/{pid}/passphrases",
        json={"username": "u1", "passphrase": "abcdefgh1"},
    )
    ap_group = await _ap_group(c, h, sim, "unit-1")
    serial = next(iter(sim.store.aps))
    await write_ok(c, h, "PUT", f"/venues/{venue}/apGroups/{ap_group}/aps/{serial}")
    await _on_group(c, h, venue, nid, ap_group)

    # every delete out of order fails its activity with the reason
    assert await write_fails(c, h, "DELETE", f"/venues/{venue}/apGroups/{ap_group}") == [
        "Cannot delete an AP group that still has APs"
    ]
    assert "still activated" in (await write_fails(c, h, "DELETE", f"/wifiNetworks/{nid}"))[0]
    assert "still has passphrases" in (await write_fails(c, h, "DELETE", f"/dpskServices/{pid}"))[0]
    assert "has a DPSK service" in (await write_fails(c, h, "DELETE", f"/identityGroups/{gid}"))[0]

    # in reverse dependency order everything goes
    default = sim.store.default_group[venue]
    await write_ok(c, h, "PUT", f"/venues/{venue}/apGroups/{default}/aps/{serial}")
    await write_ok(c, h, "DELETE", f"/venues/{venue}/apGroups/{ap_group}")
    await write_ok(c, h, "DELETE", f"/venues/{venue}/wifiNetworks/{nid}")
    await write_ok(c, h, "DELETE", f"/wifiNetworks/{nid}")
    ids = [
        p["id"]
        for p in (
            await c.post(f"/dpskServices/{pid}/passphrases/query", headers=h, json={})
        ).json()["data"]
    ]
    await write_ok(c, h, "DELETE", f"/dpskServices/{pid}/passphrases", json=ids)
    await write_ok(c, h, "DELETE", f"/dpskServices/{pid}")
    # the passphrase's identity stays (as in R1) and keeps the group until deleted
    assert "has identities" in (await write_fails(c, h, "DELETE", f"/identityGroups/{gid}"))[0]
    identities = (await c.get(f"/identityGroups/{gid}/identities", headers=h)).json()
    assert [i["dpskGuid"] for i in identities] == ids
    await write_ok(
        c, h, "DELETE", f"/identityGroups/{gid}/identities", json=[i["id"] for i in identities]
    )
    await write_ok(c, h, "DELETE", f"/identityGroups/{gid}")
    counts = sim.stats()["resources"]
    assert counts["identityGroups"] == counts["dpskServices"] == counts["wifiNetworks"] == 0
    assert counts["apGroups"] == 1 and counts["passphrases"] == 0


async def test_unknown_ids_404(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    for method, url in [
        ("DELETE", "/wifiNetworks/nope"),
        ("DELETE", "/identityGroups/nope"),
        ("DELETE", "/dpskServices/nope"),
        ("GET", "/venues/nope"),
        ("POST", "/identityGroups/nope/dpskServices"),
        ("PUT", f"/venues/{sim.venue_id}/apGroups/nope/aps/123"),
    ]:
        pool = {"name": "x", "passphraseFormat": "KEYBOARD_FRIENDLY", "passphraseLength": 12}
        body = pool if method == "POST" else None  # DELETE/GET/PUT here take none
        r = await sim_client.request(method, url, headers=sim_headers, json=body)
        assert r.status_code == 404, (method, url)
        assert r.json()["errors"][0]["message"]


async def test_fifteen_ssids_per_ap_group(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    c, h, venue = sim_client, sim_headers, sim.venue_id
    g1 = await _ap_group(c, h, sim, "g1")
    g2 = await _ap_group(c, h, sim, "g2")
    nets = [await _network(c, h, f"net-{i:02d}", "psk") for i in range(17)]
    # 10 venue-wide networks count against every group, g1 gets 5 more of its own
    for n in nets[:10]:
        await write_ok(
            c, h, "PUT", f"/venues/{venue}/wifiNetworks/{n}", json={"isAllApGroups": True}
        )
    for n in nets[10:15]:
        await _on_group(c, h, venue, n, g1)
    assert sim.store.ssid_count(g1) == 15
    # a 16th on g1 fails; on g2 it fits; venue-wide fails because g1 is full
    await write_ok(
        c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nets[15]}", json={"isAllApGroups": False}
    )  # on the venue, broadcast nowhere yet
    msgs = await write_fails(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nets[15]}/apGroups/{g1}")
    assert "maximum of 15 SSIDs" in msgs[0] and "g1" in msgs[0]
    await write_ok(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nets[15]}/apGroups/{g2}")
    msgs = await write_fails(
        c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nets[16]}", json={"isAllApGroups": True}
    )
    assert "maximum of 15 SSIDs" in msgs[0]
    # re-activating an already counted network is not a 16th SSID
    await _on_group(c, h, venue, nets[10], g1)
    # the network query reports where each network is active
    r = await c.post(
        "/wifiNetworks/query",
        headers=h,
        json={
            "searchString": "net-10",
            "searchTargetFields": ["name"],
            "fields": ["id", "name", "venueApGroups"],
            "page": 1,
            "pageSize": 10,
        },
    )
    assert r.json()["data"][0]["venueApGroups"] == [
        {"venueId": venue, "isAllApGroups": False, "apGroupIds": [g1]}
    ]


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
    assert (
        "Only DPSK"
        in (await write_fails(c, h, "PUT", f"/wifiNetworks/{psk}/dpskServices/{pid2}"))[0]
    )


async def test_one_pool_per_identity_group(
    sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    gid, _ = await _group_and_pool(sim_client, sim_headers, "g")
    msgs = await write_fails(
        sim_client,
        sim_headers,
        "POST",
        f"/identityGroups/{gid}/dpskServices",
        json={"name": "second", "passphraseFormat": "NUMBERS_ONLY", "passphraseLength": 8},
    )
    assert msgs == ["Identity group already has a DPSK service"]


async def test_ap_group_with_serials_and_ap_query(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    c, h, venue = sim_client, sim_headers, sim.venue_id
    serials = list(sim.store.aps)[:3]
    gid = await _ap_group(
        c, h, sim, "unit-7", apSerialNumbers=[{"serialNumber": s} for s in serials]
    )
    r = await c.post(
        "/venues/aps/query",
        headers=h,
        json={
            "fields": ["serialNumber", "apGroupId"],
            "filters": {"apGroupId": [gid]},
            "page": 1,
            "pageSize": 100,
        },
    )
    rows = r.json()["data"]
    assert sorted(a["serialNumber"] for a in rows) == sorted(serials)
    assert set(rows[0]) == {"serialNumber", "apGroupId"}
    r = await c.post(
        "/venues/apGroups/query",
        headers=h,
        json={"filters": {"venueId": [venue], "isDefault": ["false"]}},
    )
    assert [g["name"] for g in r.json()["data"]] == ["unit-7"]
    # the simulator itself (contract guard off) refuses what the document refuses
    raw = Simulator(SimConfig(contract="off"))
    from tests.fixtures_sim import sim_client_for
    from tests.sim.helpers import token

    rc = sim_client_for(raw)
    rh = await token(rc)
    r = await rc.post(f"/venues/{raw.venue_id}/apGroups", headers=rh, json={"name": "x"})
    assert r.status_code == 400 and "name" in r.text  # 2-64 characters
    r = await rc.post(
        f"/venues/{raw.venue_id}/apGroups",
        headers=rh,
        json={"name": "ok", "apSerialNumbers": [{"serialNumber": "ABC123"}]},
    )
    assert r.status_code == 400 and "apSerialNumbers" in r.text


async def test_lan_ports_need_the_override_first(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    c, h, venue = sim_client, sim_headers, sim.venue_id
    ap = next(a for a in sim.store.aps.values() if a.model == "H510")
    url = f"/venues/{venue}/aps/{ap.serialNumber}"
    port = {"overwriteUntagId": 100, "overwriteVlanMembers": "100"}
    msgs = await write_fails(c, h, "PUT", f"{url}/lanPorts/2/settings", json=port)
    assert "useVenueSettings" in msgs[0]
    await write_ok(c, h, "PUT", f"{url}/lanPortSpecificSettings", json={"useVenueSettings": False})
    await write_ok(c, h, "PUT", f"{url}/lanPorts/2/settings", json=port)
    # the port's type is its profile's (ports 2-5 are ACCESS): members = the untagged VLAN
    bad = {"overwriteUntagId": 100, "overwriteVlanMembers": "100,200"}
    assert "ACCESS" in (await write_fails(c, h, "PUT", f"{url}/lanPorts/4/settings", json=bad))[0]
    body = (await c.get(f"{url}/lanPortSpecificSettings", headers=h)).json()
    assert body == {"useVenueSettings": False}
    body = (await c.get(f"{url}/lanPorts/2/settings", headers=h)).json()
    assert body == {"overwriteUntagId": 100, "overwriteVlanMembers": "100", "enabled": True}
    # an R550 has no port 5
    r550 = next(a for a in sim.store.aps.values() if a.model == "R550")
    r = await c.put(
        f"/venues/{venue}/aps/{r550.serialNumber}/lanPorts/5/settings", json=port, headers=h
    )
    assert r.status_code == 404
