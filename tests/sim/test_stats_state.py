"""`/_sim/stats`, reset, and state files / snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.fixtures_sim import sim_client_for
from tests.sim.helpers import token, write_ok
from workflows.sim import ManualClock, SimConfig, Simulator

pytestmark = pytest.mark.anyio


async def test_stats_track_routes_resources_and_activities() -> None:
    clock = ManualClock()
    sim = Simulator(SimConfig(profile="demo", aps=5), clock=clock)
    c = sim_client_for(sim)
    h = await token(c)
    before = (await c.get("/_sim/stats")).json()
    assert before["resources"]["aps"] == 5 and before["resources"]["identityGroups"] == 0
    for name in ("a", "b", "a"):
        await c.post("/identityGroups", json={"name": name}, headers=h)
    mid = (await c.get("/_sim/stats")).json()
    assert mid["activities"] == {"PENDING": 3, "INPROGRESS": 0, "SUCCESS": 0, "FAIL": 0}
    assert mid["duplicate_create_attempts"] == 1  # "a" again while the first is in flight
    clock.advance(5)
    after = (await c.get("/_sim/stats")).json()
    assert after["requests"]["POST /identityGroups"] == 3
    assert after["requests"]["POST /oauth2/token/{tenantId}"] == 1
    assert after["responses_by_status"] == {"200": 1, "202": 3}
    assert after["resources"]["identityGroups"] == 2
    assert after["activities"] == {"PENDING": 0, "INPROGRESS": 0, "SUCCESS": 2, "FAIL": 1}
    assert after["duplicate_create_attempts_by_type"] == {"identityGroups": 1}
    assert "/_sim/stats" not in json.dumps(after["requests"])
    assert sim.stats() == after


async def test_reset_restores_the_seeded_tenant(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    serials = sorted(sim.store.aps)
    await write_ok(sim_client, sim_headers, "POST", "/identityGroups", json={"name": "x"})
    assert (await sim_client.post("/_sim/reset")).status_code == 200
    assert sim.stats()["resources"]["identityGroups"] == 0
    assert sorted(sim.store.aps) == serials  # same seed, same APs
    info = (await sim_client.get("/_sim/info")).json()
    assert info["venueId"] == sim.venue_id and info["tenantId"] == "sim-tenant"


def test_seeded_venue_and_extra_serials() -> None:
    sim = Simulator(
        SimConfig(aps=10, seed=1, venue_name="Tower A", extra_ap_serials=["991122334455", " "])
    )
    assert len(sim.store.aps) == 11 and "991122334455" in sim.store.aps
    assert sim.store.venues[sim.venue_id].name == "Tower A"
    assert sorted(Simulator(SimConfig(aps=10, seed=1)).store.aps) != sorted(
        Simulator(SimConfig(aps=10, seed=2)).store.aps
    )
    assert all(len(s) == 12 for s in sim.store.aps)


async def test_state_file_round_trip(tmp_path: Path) -> None:
    state = tmp_path / "sim.json"
    sim = Simulator(SimConfig(aps=4, state_file=str(state)))
    c = sim_client_for(sim)
    h = await token(c)
    venue = sim.venue_id
    gid = (await write_ok(c, h, "POST", "/identityGroups", json={"name": "g"}))["id"]
    pid = (
        await write_ok(
            c,
            h,
            "POST",
            f"/identityGroups/{gid}/dpskServices",
            json={"name": "p", "passphraseFormat": "MOST_SECURED", "passphraseLength": 18},
        )
    )["id"]
    nid = (
        await write_ok(
            c,
            h,
            "POST",
            "/wifiNetworks",
            json={"name": "nw", "type": "dpsk", "wlan": {"ssid": "nw"}, "useDpskService": True},
        )
    )["response"]["id"]
    await write_ok(c, h, "PUT", f"/wifiNetworks/{nid}/dpskServices/{pid}")
    await write_ok(c, h, "PUT", f"/venues/{venue}/wifiNetworks/{nid}", json={})
    await write_ok(
        c,
        h,
        "POST",
        f"/dpskServices/{pid}/passphrases",
        json={"username": "u", "passphrase": "12345678"},
    )
    first_ap = {"serialNumber": next(iter(sim.store.aps))}
    await write_ok(
        c,
        h,
        "POST",
        f"/venues/{venue}/apGroups",
        json={"name": "ag", "apSerialNumbers": [first_ap]},
    )
    ag = {"id": sim.store.group_by_name[(venue, "ag")]}
    assert (await c.post("/_sim/save")).json() == {"saved": str(state)}

    again = Simulator(SimConfig(aps=99, state_file=str(state)))
    assert again.venue_id == venue
    assert again.stats()["resources"] == sim.stats()["resources"]
    assert again.store.networks[nid].dpskServiceId == pid
    assert again.store.ssid_count(ag["id"]) == 1
    assert again.store.pools[pid].by_value == sim.store.pools[pid].by_value
    # identities are state too: one deleted behind a passphrase stays deleted
    assert set(again.store.identities) == set(sim.store.identities) != set()
    sim.store.delete_identities(gid, list(sim.store.identities))
    sim.save()
    assert not Simulator(SimConfig(state_file=str(state))).store.identities
    # a snapshot in the same format seeds a tenant without being written back
    snap = Simulator(SimConfig(snapshot_file=str(state)))
    assert snap.stats()["resources"]["passphrases"] == 1
    with pytest.raises(ValueError):
        snap.save()
