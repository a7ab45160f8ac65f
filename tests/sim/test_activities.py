"""202 + activity lifecycle, the brief 404, bulk polling, nested FAIL errors."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fixtures_sim import sim_client_for
from tests.sim.helpers import token, write_fails
from workflows.sim import ManualClock, SimConfig, Simulator

pytestmark = pytest.mark.anyio


async def test_lifecycle_pending_inprogress_success() -> None:
    clock = ManualClock()
    sim = Simulator(SimConfig(profile="demo", seed=3), clock=clock)
    client = sim_client_for(sim)
    headers = await token(client)
    r = await client.post("/identityGroups", json={"name": "unit-101"}, headers=headers)
    assert r.status_code == 202
    rid, gid = r.json()["requestId"], r.json()["id"]
    activity = sim.activities.by_id[rid]
    assert 0.5 <= activity.done_at - activity.created_at <= 3.0

    # briefly unknown right after the 202 (demo: 0.2 s)
    assert (await client.get(f"/activities/{rid}", headers=headers)).status_code == 404
    clock.set(activity.visible_at)
    assert (await client.get(f"/activities/{rid}", headers=headers)).json()["status"] == "PENDING"
    clock.set(activity.pending_until)
    body = (await client.get(f"/activities/{rid}", headers=headers)).json()
    assert body["status"] == "INPROGRESS" and "endDatetime" not in body
    # the resource only exists once the activity is done
    r = await client.get(f"/identityGroups/{gid}", headers=headers)
    assert r.status_code == 404
    clock.set(activity.done_at)
    body = (await client.get(f"/activities/{rid}", headers=headers)).json()
    assert body["status"] == "SUCCESS" and body["requestId"] == rid and "endDatetime" in body
    assert (await client.get(f"/identityGroups/{gid}", headers=headers)).json()["name"] == (
        "unit-101"
    )


async def test_time_scale_shrinks_durations() -> None:
    sim = Simulator(SimConfig(profile="realistic", seed=3, time_scale=1 / 60), clock=ManualClock())
    client = sim_client_for(sim)
    headers = await token(client)
    rid = (await client.post("/identityGroups", json={"name": "g"}, headers=headers)).json()[
        "requestId"
    ]
    a = sim.activities.by_id[rid]
    assert 0.5 <= a.done_at - a.created_at <= 1.5


async def test_404_for_first_polls_is_deterministic() -> None:
    sim = Simulator(SimConfig(activity_404_polls=2), clock=ManualClock())
    client = sim_client_for(sim)
    headers = await token(client)
    rid = (await client.post("/identityGroups", json={"name": "g"}, headers=headers)).json()[
        "requestId"
    ]
    codes = [
        (await client.get(f"/activities/{rid}", headers=headers)).status_code for _ in range(3)
    ]
    assert codes == [404, 404, 200]


async def test_bulk_query(sim_client: httpx.AsyncClient, sim_headers: dict) -> None:
    rids = []
    for i in range(5):
        r = await sim_client.post("/identityGroups", json={"name": f"g{i}"}, headers=sim_headers)
        rids.append(r.json()["requestId"])
    r = await sim_client.post(
        "/activities/query",
        headers=sim_headers,
        json={"filters": {"requestId": [*rids, "unknown-id"]}, "page": 1, "pageSize": 500},
    )
    body = r.json()
    assert body["totalCount"] == 5 and body["page"] == 1
    assert {a["requestId"] for a in body["data"]} == set(rids)
    assert not any("id" in a for a in body["data"])  # ActivityDto has requestId, no id
    assert {a["status"] for a in body["data"]} == {"SUCCESS"}
    r = await sim_client.post(
        "/activities/query",
        headers=sim_headers,
        json={"filters": {"requestId": rids}, "pageSize": 501},
    )
    assert r.status_code == 400


async def test_duplicate_name_fails_the_activity_with_nested_error(
    sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    r = await sim_client.post("/identityGroups", json={"name": "dup"}, headers=sim_headers)
    assert r.status_code == 202
    r2 = await sim_client.post("/identityGroups", json={"name": "dup"}, headers=sim_headers)
    assert r2.status_code == 202  # accepted: the *activity* fails
    act = (
        await sim_client.get(f"/activities/{r2.json()['requestId']}", headers=sim_headers)
    ).json()
    assert act["status"] == "FAIL"
    outer = json.loads(act["error"])
    assert outer["requestId"] == r2.json()["requestId"]
    inner = json.loads(outer["errors"][0])
    assert inner["message"] == "Validation Error"
    assert inner["subErrors"] == [
        {"object": "identityGroup", "field": "name", "message": "Name must be unique"}
    ]


@pytest.mark.parametrize(
    ("url", "body_of"),
    [
        (
            "/wifiNetworks",
            lambda n: {"name": n, "type": "dpsk", "wlan": {"ssid": n}, "useDpskService": True},
        ),
        ("/venues/{venue}/apGroups", lambda n: {"name": n}),
    ],
)
async def test_uniqueness_other_resources(
    sim, sim_client: httpx.AsyncClient, sim_headers: dict, url: str, body_of
) -> None:  # type: ignore[no-untyped-def]
    url = url.format(venue=sim.venue_id)
    await sim_client.post(url, json=body_of("unit-1"), headers=sim_headers)
    msgs = await write_fails(sim_client, sim_headers, "POST", url, json=body_of("unit-1"))
    assert msgs == ["Name must be unique"]


async def test_pool_name_unique(sim_client: httpx.AsyncClient, sim_headers: dict) -> None:
    ids = []
    for name in ("ig1", "ig2"):
        ids.append(
            (
                await sim_client.post("/identityGroups", json={"name": name}, headers=sim_headers)
            ).json()["id"]
        )
    body = {"name": "pool", "passphraseFormat": "KEYBOARD_FRIENDLY", "passphraseLength": 12}
    await sim_client.post(f"/identityGroups/{ids[0]}/dpskServices", json=body, headers=sim_headers)
    msgs = await write_fails(
        sim_client, sim_headers, "POST", f"/identityGroups/{ids[1]}/dpskServices", json=body
    )
    assert msgs == ["Name must be unique"]


async def test_bad_body_is_a_synchronous_400(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    sim.config.contract = "off"  # bodies the documents reject, on purpose: the simulator's own 400
    r = await sim_client.post(
        "/wifiNetworks",
        headers=sim_headers,
        json={"name": "n1", "type": "psk", "wlan": {"ssid": "s"}},
    )
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert "passphrase" in err["message"] and err["code"]
    r = await sim_client.post("/identityGroups", headers=sim_headers, content=b"{not json")
    assert r.status_code == 400
