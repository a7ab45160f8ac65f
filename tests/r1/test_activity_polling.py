"""The activity calls as activities_api-0.0.1 has them (`requestId`, no `id`; a
list of values per filter), the poller's calls counted apart from the task that
started it, and the poller's pacing in R1 seconds, scaled like the simulator."""

from __future__ import annotations

import pytest

from app.runtime import sim_pacing
from workflows.r1 import R1ActivityBackend, R1Config
from workflows.r1.activities import to_result
from workflows.r1.meter import metering
from workflows.r1.transport import documented_limiter

from .helpers import body_of
from .simharness import SimTarget

pytestmark = pytest.mark.anyio


async def test_activities_are_named_by_request_id(asgi_target: SimTarget) -> None:
    sim = asgi_target.sim
    async with asgi_target.client() as r1:
        accepted = await r1.create_identity_group("poll-me")
        rid = accepted.request_id
        raw = (await r1.send("GET", "/activities/{activityId}", path={"activityId": rid})).json()
        rows = (
            await r1.send(
                "POST", "/activities/query", json={"filters": {"requestId": [rid, "unknown"]}}
            )
        ).json()["data"]
        ignored = (
            await r1.send(
                "POST",
                "/activities/query",  # R1 ignores an unknown filter
                json={"filters": {"id": ["unknown"]}},
            )
        ).json()["data"]
        found = await r1.activities.query([rid, "unknown"])
    assert raw["requestId"] == rid and "id" not in raw
    assert [row["requestId"] for row in rows] == [rid] and "id" not in rows[0]
    assert [row["requestId"] for row in ignored] == [rid]
    assert set(found) == {rid} and found[rid].status == "SUCCESS"
    assert sim.stats()["requests"]["POST /activities/query"] == 3


def test_a_row_without_request_id_is_not_an_activity() -> None:
    assert to_result({"id": "r1", "status": "SUCCESS"}) is None
    assert to_result({"requestId": "r1", "status": "FAIL", "error": "x"}).status == "FAIL"


async def test_the_client_filters_on_request_id(mock_r1, make_client) -> None:
    seen = []

    def query(request):
        seen.append(body_of(request))
        import httpx

        return httpx.Response(200, json={"data": [], "totalCount": 0, "page": 1})

    mock_r1.on("POST", "/activities/query", query)
    async with make_client() as r1:
        await r1.activities.query(["a", "b", "a"])
    assert seen[0]["filters"] == {"requestId": ["a", "b"]}


async def test_the_pollers_calls_are_its_own(asgi_target: SimTarget) -> None:
    """A poll made from inside a phase's scope (the poller task inherits the first
    waiter's context) is counted apart and reported as the poll's cost."""
    async with asgi_target.client() as r1:
        accepted = await r1.create_identity_group("g")
        backend = R1ActivityBackend(r1)
        with metering(caller_retries=True) as phase:
            results, cost = await backend.measured_query([accepted.request_id])
        assert results and results[accepted.request_id].status == "SUCCESS"
    assert phase.calls == 0
    assert cost.calls == 1 and cost.polls == 1 and cost.rate_limited == 0


async def test_a_failed_poll_is_the_pollers_to_retry(asgi_target: SimTarget) -> None:
    from workflows.sim.config import FaultConfig, FaultRule

    sim = asgi_target.sim
    async with asgi_target.client() as r1:
        await r1.create_identity_group("g")
        sim.faults = FaultConfig(rules=[FaultRule(action="http_503", route="activities/query")])
        results, cost = await R1ActivityBackend(r1).measured_query(["x"])
    assert results is None  # no transport retries: the poller polls again next round
    assert cost.calls == 1 and cost.polls == 1


def test_r1_pacing_and_budget_scale_with_the_time_scale() -> None:
    creds = {"client_id": "c", "client_secret": "s", "tenant_id": "t"}
    real = R1Config(**creds)
    fast = R1Config(**creds, time_scale=0.01)  # a `phasegrid sim --time-scale 0.01` rehearsal

    class Client:
        def __init__(self, config: R1Config) -> None:
            self.config = config

    assert R1ActivityBackend(Client(real)).poll_intervals == (1.0, 5.0)  # type: ignore[arg-type]
    assert R1ActivityBackend(Client(fast)).poll_intervals == pytest.approx((0.01, 0.05))  # type: ignore[arg-type]
    assert documented_limiter(real).bucket("wifi_api").rate == pytest.approx(100.0)
    assert documented_limiter(fast).bucket("wifi_api").rate == pytest.approx(10_000.0)
    assert documented_limiter(fast).bucket("wifi_api").capacity == 200


def test_the_runtime_hands_the_simulators_time_to_the_client() -> None:
    assert sim_pacing("realistic", 0.01) == {"time_scale": 0.01}
    assert sim_pacing("demo", 1.0) == {"time_scale": 1.0}  # paced like R1
    fast = R1Config(client_id="c", client_secret="s", tenant_id="t", **sim_pacing("fast", 0.5))
    lo, hi = fast.poll_intervals
    assert (fast.scaled(lo), fast.scaled(hi)) == pytest.approx((0.01, 0.1))  # test profile
