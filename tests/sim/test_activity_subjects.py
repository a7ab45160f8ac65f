"""Activity durations are drawn per logical subject (not in request order), and the
activity log (`Simulator.activity_log`, `GET /_sim/activities`) says what was drawn:
the makespan benchmark's contenders issue the same operations in different orders
and its lower bound is computed from this log."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures_sim import sim_client_for
from tests.sim.helpers import token
from workflows.sim import ManualClock, SimConfig, Simulator

pytestmark = pytest.mark.anyio


def _sim() -> Simulator:
    return Simulator(SimConfig(profile="realistic", seed=11, aps=0), clock=ManualClock())


async def _group_and_pool(
    client: httpx.AsyncClient, headers: dict[str, str], unit: str, clock: ManualClock | None = None
) -> str:
    """An identity group and its pool for `unit` (the group done first when a clock
    is given); returns the pool's id."""
    r = await client.post("/identityGroups", json={"name": f"idg-{unit}"}, headers=headers)
    gid = r.json()["id"]
    if clock is not None:
        clock.advance(5.0)
    body = {"name": f"pool-{unit}", "passphraseFormat": "MOST_SECURED", "passphraseLength": 12}
    r = await client.post(f"/identityGroups/{gid}/dpskServices", json=body, headers=headers)
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _by_subject(sim: Simulator) -> dict[str, float]:
    return {
        "|".join(f"{k}={v}" for k, v in sorted(e["subject"].items())): e["duration"]
        for e in sim.activity_log()
    }


async def test_same_operations_in_another_order_draw_the_same_durations() -> None:
    first, second = _sim(), _sim()
    c1, c2 = sim_client_for(first), sim_client_for(second)
    h1, h2 = await token(c1), await token(c2)
    for unit in ("a", "b", "c"):
        await _group_and_pool(c1, h1, unit)
    # the other client: another order, and an unrelated write first (ids shift too)
    await c2.post("/identityGroups", json={"name": "someone-else"}, headers=h2)
    for unit in ("c", "a", "b"):
        await _group_and_pool(c2, h2, unit)
    one, two = _by_subject(first), _by_subject(second)
    assert len(one) == 6 and set(one) <= set(two)
    assert {k: two[k] for k in one} == one
    # the pool's subject names its group (the path id), not the group's id
    pools = [e for e in first.activity_log() if e["useCase"] == "AddDpskService"]
    assert {e["subject"]["groupId"] for e in pools} == {"idg-a", "idg-b", "idg-c"}
    assert len(set(one.values())) == 6  # distinct subjects, distinct draws
    assert all(30.0 <= d <= 90.0 for d in one.values())


async def test_repeating_an_operation_draws_its_stream_next_value() -> None:
    sim = _sim()
    client = sim_client_for(sim)
    headers = await token(client)
    for _ in range(2):
        await client.post("/identityGroups", json={"name": "same"}, headers=headers)
    first, again = (e["duration"] for e in sim.activity_log())
    assert first != again
    other = _sim()
    other_client = sim_client_for(other)
    await other_client.post(
        "/identityGroups", json={"name": "same"}, headers=await token(other_client)
    )
    assert other.activity_log()[0]["duration"] == first


async def test_activity_log_route_has_times_in_r1_seconds_and_no_secrets() -> None:
    clock = ManualClock()
    sim = Simulator(SimConfig(profile="realistic", seed=11, aps=0, time_scale=0.01), clock=clock)
    client = sim_client_for(sim)
    headers = await token(client)
    pool_id = await _group_and_pool(client, headers, "x", clock)
    clock.advance(5.0)  # every activity done (at most 0.9 s each on this clock)
    body = {"username": "guest-1", "passphrase": "s3cret-value-77"}
    r = await client.post(f"/dpskServices/{pool_id}/passphrases", json=body, headers=headers)
    assert r.status_code == 202, r.text
    answer = await client.get("/_sim/activities")
    assert answer.status_code == 200
    data = answer.json()
    assert data["timeScale"] == 0.01
    log = data["activities"]
    assert [e["useCase"] for e in log] == [
        "AddIdentityGroup", "AddDpskService", "AddDpskPassphrases",
    ]  # fmt: skip
    for entry in log:
        assert entry["done"] == pytest.approx(entry["created"] + entry["duration"], abs=1e-3)
    assert log[0]["status"] == "SUCCESS" and log[2]["status"] in ("PENDING", "INPROGRESS")
    assert log[2]["created"] == pytest.approx(1000.0, abs=1e-3)  # 10 s at 1/100: R1 seconds
    assert log[2]["subject"] == {
        "route": "POST /dpskServices/{poolId}/passphrases",
        "poolId": "pool-x",
        "body.username": "guest-1",
    }
    assert "s3cret" not in answer.text
    # the log route is private: not counted in the request stats
    assert "GET /_sim/activities" not in sim.stats()["requests"]
