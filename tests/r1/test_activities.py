"""Bulk activity backend (<=500 ids per call), single GET with 404 = not yet,
and the engine's ActivityTracker driving it."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest

from engine.activities import ActivityTracker
from workflows.r1 import Accepted, R1ActivityBackend, R1ActivityFailed

from .helpers import MockR1, Sleeps, body_of

pytestmark = pytest.mark.anyio


class FakeActivities:
    """Activities finish after `polls_to_finish` bulk queries; some FAIL."""

    def __init__(self, polls_to_finish: int = 2, fail: set[str] | None = None) -> None:
        self.polls = 0
        self.batch_sizes: list[int] = []
        self.polls_to_finish = polls_to_finish
        self.fail = fail or set()

    def status(self, ident: str) -> dict:
        if self.polls < self.polls_to_finish:
            return {"requestId": ident, "status": "INPROGRESS"}
        if ident in self.fail:
            err = json.dumps(
                {
                    "requestId": ident,
                    "errors": [
                        json.dumps(
                            {
                                "message": "Validation Error",
                                "subErrors": [
                                    {
                                        "object": "apGroup",
                                        "field": "name",
                                        "message": "Name must be unique",
                                    }
                                ],
                            }
                        )
                    ],
                }
            )
            return {"requestId": ident, "status": "FAIL", "error": err}
        return {"requestId": ident, "status": "SUCCESS"}

    def query(self, request: httpx.Request) -> httpx.Response:
        body = body_of(request)
        ids = body["filters"]["requestId"]
        assert len(ids) <= 500 and body["pageSize"] <= 500
        self.batch_sizes.append(len(ids))
        self.polls += 1
        data = [self.status(i) for i in ids if not i.startswith("unknown")]
        return httpx.Response(200, json={"data": data, "totalCount": len(data), "page": 1})

    def get(self, request: httpx.Request) -> httpx.Response:
        ident = request.url.path.rsplit("/", 1)[1]
        if ident.startswith("unknown"):
            return httpx.Response(404, json={"message": "not found"})
        return httpx.Response(200, json=self.status(ident))


async def test_bulk_query_chunks_by_500(mock_r1: MockR1, make_client) -> None:
    acts = FakeActivities(polls_to_finish=0)
    mock_r1.on("POST", "/activities/query", acts.query)
    async with make_client() as r1:
        backend = R1ActivityBackend(r1)
        ids = [f"a{i}" for i in range(1201)] + ["unknown-1"]
        results = await backend.query(ids)
    assert acts.batch_sizes == [500, 500, 202]
    assert len(results) == 1201 and "unknown-1" not in results
    assert results["a7"].status == "SUCCESS"


async def test_get_activity_404_is_not_yet(mock_r1: MockR1, make_client) -> None:
    acts = FakeActivities(polls_to_finish=0)
    mock_r1.on("GET", "/activities/unknown-9", acts.get)
    mock_r1.on("GET", "/activities/a1", acts.get)
    async with make_client() as r1:
        assert await r1.get_activity("unknown-9") is None
        assert (await r1.get_activity("a1")).status == "SUCCESS"
        assert r1.stats.failures == 0


async def test_tracker_wakes_waiters_and_surfaces_fail(mock_r1: MockR1, make_client) -> None:
    acts = FakeActivities(polls_to_finish=2, fail={"r-13"})
    mock_r1.on("POST", "/activities/query", acts.query)
    outcomes: dict[str, str] = {}
    async with make_client() as r1:
        tracker = ActivityTracker(r1.activities, min_interval=0.001, max_interval=0.01)

        async def one(i: int) -> None:
            try:
                await r1.wait(Accepted(request_id=f"r-{i}"), tracker, timeout=5)
                outcomes[f"r-{i}"] = "ok"
            except R1ActivityFailed as err:
                outcomes[f"r-{i}"] = str(err)

        async with anyio.create_task_group() as tg:
            tg.start_soon(tracker.run)
            async with anyio.create_task_group() as waiters:
                for i in range(40):
                    waiters.start_soon(one, i)
            tg.cancel_scope.cancel()
    assert sum(v == "ok" for v in outcomes.values()) == 39
    assert "Name must be unique" in outcomes["r-13"]
    assert len(acts.batch_sizes) <= 6  # bulk rounds, not 40 x polls


async def test_wait_without_tracker_polls_single(mock_r1: MockR1, make_client) -> None:
    acts = FakeActivities(polls_to_finish=0)
    hits = {"n": 0}

    def get(request: httpx.Request) -> httpx.Response:
        hits["n"] += 1
        if hits["n"] < 3:
            return httpx.Response(404)
        return acts.get(request)

    mock_r1.on("GET", "/activities/x1", get)
    sleeps = Sleeps()
    async with make_client(sleep=sleeps) as r1:
        result = await r1.wait(Accepted(request_id="x1"), poll_interval=0.5)
        assert await r1.wait(Accepted(status_code=200)) is None
    assert result.status == "SUCCESS" and sleeps.delays == [0.5, 0.5]


async def test_wait_in_phase_context(mock_r1: MockR1, make_client) -> None:
    """`wait_in(ctx, accepted)` goes through the engine context's wait_activity."""
    acts = FakeActivities(polls_to_finish=0, fail={"bad"})
    mock_r1.on("POST", "/activities/query", acts.query)

    class Ctx:
        def __init__(self, tracker: ActivityTracker) -> None:
            self.tracker = tracker
            self.backends: list[object] = []

        async def wait_activity(self, backend, activity_id, timeout=None):
            self.backends.append(backend)
            return await self.tracker.wait(activity_id, timeout)

    async with make_client() as r1, anyio.create_task_group() as tg:
        ctx = Ctx(ActivityTracker(r1.activities, min_interval=0.001, max_interval=0.01))
        tg.start_soon(ctx.tracker.run)
        assert (await r1.wait_in(ctx, Accepted(request_id="good"))).status == "SUCCESS"
        with pytest.raises(R1ActivityFailed, match="Name must be unique"):
            await r1.wait_in(ctx, Accepted(request_id="bad"))
        assert await r1.wait_in(ctx, Accepted(status_code=200)) is None
        tg.cancel_scope.cancel()
    assert ctx.backends == [r1.activities, r1.activities]
