"""Seeded faults and latency: determinism, targeted rules, each fault kind."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fixtures_sim import serve_sim, sim_client_for
from tests.sim.helpers import token, write_fails, write_ok
from workflows.sim import FaultConfig, FaultRule, ManualClock, SimConfig, Simulator

pytestmark = pytest.mark.anyio

CHAOS = FaultConfig(
    http_5xx_rate=0.15,
    lost_response_rate=0.05,
    activity_fail_transient_rate=0.1,
    activity_fail_permanent_rate=0.05,
)


async def _run_script(seed: int) -> tuple[list[int], list[float], list[str | None]]:
    """The same 60 creates against a fresh simulator: what came back, how long, how it ended."""
    clock = ManualClock()
    sim = Simulator(
        SimConfig(profile="demo", seed=seed, faults=CHAOS, time_scale=0.01), clock=clock
    )
    client = sim_client_for(sim)
    headers = await token(client)
    codes = [
        (
            await client.post("/identityGroups", json={"name": f"unit-{i:02d}"}, headers=headers)
        ).status_code
        for i in range(60)
    ]
    clock.advance(10)
    sim.settle()
    acts = list(sim.activities.by_id.values())
    return (
        codes,
        [a.done_at - a.created_at for a in acts],
        [
            a.error and json.loads(json.loads(a.error)["errors"][0])["subErrors"][0]["message"]
            for a in acts
        ],
    )


async def test_same_seed_same_durations_and_faults() -> None:
    first, second, other = await _run_script(11), await _run_script(11), await _run_script(12)
    assert first == second
    codes, durations, errors = first
    assert {500, 502, 503} & set(codes) and 202 in codes
    assert any(e == "Internal error, please retry" for e in errors)
    assert any(e == "Injected validation error" for e in errors)
    assert all(0.005 <= d <= 0.03 for d in durations)  # demo's 0.5-3 s, scaled
    assert other != first


async def test_targeted_permanent_fail_then_clear(
    sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    c, h = sim_client, sim_headers
    rule = {
        "action": "fail_permanent",
        "route": "^POST /identityGroups$",
        "match": "unit-07",
        "message": "unit 7 is cursed",
    }
    r = await c.put("/_sim/faults", json={"rules": [rule]})
    assert r.status_code == 200 and r.json()["rules"][0]["match"] == "unit-07"
    await write_ok(c, h, "POST", "/identityGroups", json={"name": "unit-06"})
    for _ in range(2):  # until cleared, every attempt fails
        assert await write_fails(c, h, "POST", "/identityGroups", json={"name": "unit-07"}) == [
            "unit 7 is cursed"
        ]
    assert (await c.delete("/_sim/faults")).json()["rules"] == []
    await write_ok(c, h, "POST", "/identityGroups", json={"name": "unit-07"})


async def test_rule_times_and_python_accessor(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    c, h = sim_client, sim_headers
    sim.faults = FaultConfig(
        rules=[
            FaultRule(action="fail_transient", match="flaky", times=1),
            FaultRule(action="http_503", route="wifiNetworks", times=2),
        ]
    )
    msgs = await write_fails(c, h, "POST", "/identityGroups", json={"name": "flaky"})
    assert msgs == ["Internal error, please retry"]
    await write_ok(c, h, "POST", "/identityGroups", json={"name": "flaky"})
    body = {"name": "n1", "type": "dpsk", "wlan": {"ssid": "n1"}, "useDpskService": True}
    codes = [(await c.post("/wifiNetworks", json=body, headers=h)).status_code for _ in range(3)]
    assert codes == [503, 503, 202]
    assert sim.stats()["faults_injected"] == {"activity_fail_transient": 1, "http_503": 2}


async def test_lost_response_applies_the_write(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    sim.faults = FaultConfig(lost_response_rate=1.0)
    r = await sim_client.post("/identityGroups", json={"name": "ghost"}, headers=sim_headers)
    assert r.status_code == 502
    sim.faults = FaultConfig()
    # the client retries the create it thinks failed: a duplicate attempt
    msgs = await write_fails(
        sim_client, sim_headers, "POST", "/identityGroups", json={"name": "ghost"}
    )
    assert msgs == ["Name must be unique"]
    assert sim.stats()["duplicate_create_attempts"] == 1


async def test_drop_in_process(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    sim.faults = FaultConfig(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        await sim_client.post("/venues/query", json={}, headers=sim_headers)


def test_drop_and_hang_over_real_http() -> None:
    sim = Simulator(
        SimConfig(
            faults=FaultConfig(
                hang_seconds=0.5,
                rules=[
                    FaultRule(action="drop", route="venues/query", times=1),
                    FaultRule(action="hang", route="venues/query", times=1),
                ],
            )
        )
    )
    with serve_sim(sim) as url, httpx.Client(base_url=url, timeout=0.2) as client:
        form = {
            "grant_type": "client_credentials",
            "client_id": "sim-client",
            "client_secret": "sim-secret",
        }
        tok = client.post("/oauth2/token/sim-tenant", data=form).json()["access_token"]
        headers = {"Authorization": f"Bearer {tok}"}
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/venues/query", json={}, headers=headers)
        with pytest.raises(httpx.ReadTimeout):
            client.post("/venues/query", json={}, headers=headers)
        assert client.post("/venues/query", json={}, headers=headers).status_code == 200


def test_fault_spec_parsing() -> None:
    cfg = FaultConfig.parse("5xx=0.02, fail=0.01,permfail=0.005;drop=0.001,hang_seconds=3")
    assert cfg.http_5xx_rate == 0.02 and cfg.activity_fail_transient_rate == 0.01
    assert cfg.activity_fail_permanent_rate == 0.005 and cfg.drop_rate == 0.001
    assert cfg.hang_seconds == 3
    assert FaultConfig.parse(None) == FaultConfig()
    js = FaultConfig.parse('{"rules": [{"action": "http_500", "match": "unit-3"}]}')
    assert js.rules[0].action == "http_500"
    for bad in ("5xx", "5xx=2", "nonsense=1", "hang_seconds=999"):
        with pytest.raises(ValueError):
            FaultConfig.parse(bad)


def test_sim_config_accepts_a_fault_spec_string() -> None:
    cfg = SimConfig(faults="5xx=0.1,permfail=0.2")
    assert cfg.faults.http_5xx_rate == 0.1 and cfg.faults.activity_fail_permanent_rate == 0.2


async def test_targeted_lost_rule_applies_the_write_and_descriptions_follow_the_docs(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict
) -> None:
    c, h = sim_client, sim_headers
    sim.config.contract = "off"  # sends descriptions the documents reject, on purpose
    sim.faults = FaultConfig(rules=[FaultRule(action="lost", route="^POST /wifiNetworks$",
                                              match="ghost", times=1)])  # fmt: skip
    body = {
        "name": "ghost",
        "type": "dpsk",
        "wlan": {"ssid": "gg"},
        "description": "tag x",
        "useDpskService": True,
    }
    assert (await c.post("/wifiNetworks", json=body, headers=h)).status_code == 502
    found = await c.post("/wifiNetworks/query", json={"searchString": "ghost"}, headers=h)
    assert [n["description"] for n in found.json()["data"]] == ["tag x"]  # applied, returned
    assert sim.stats()["faults_injected"] == {"lost_response": 1}
    venue = sim.venue_id
    too_long = {"name": "g2", "type": "dpsk", "wlan": {"ssid": "g"}, "description": "x" * 257}
    assert (await c.post("/wifiNetworks", json=too_long, headers=h)).status_code == 400
    for bad in ("x", "x" * 181):  # wifi_api ApGroup.description: 2-180 characters
        r = await c.post(f"/venues/{venue}/apGroups", json={"name": "G1", "description": bad},
                         headers=h)  # fmt: skip
        assert r.status_code == 400, bad
    await write_ok(
        c, h, "POST", f"/venues/{venue}/apGroups", json={"name": "G1", "description": "xy"}
    )
    groups = await c.post("/venues/apGroups/query", json={"filters": {"name": ["G1"]}}, headers=h)
    assert [g["description"] for g in groups.json()["data"]] == ["xy"]
