"""R1 activities: the engine's bulk-poll backend, and FAIL -> typed error.

R1 writes answer 202 with a `requestId`; the activity behind it finishes
later. `R1ActivityBackend` lets the engine's single `ActivityTracker` ask
about up to 500 ids per `POST /activities/query` call instead of one GET per
waiter. Ids R1 does not know yet (it 404s briefly after a 202) are left out
of the answer, which the tracker reads as "not yet".

activities_api-0.0.1: an activity (`ActivityDto`) is named by `requestId` (it has
no `id`); `QueryData.filters` is an untyped map, to which R1 gives a list of
values per key: we filter on `requestId` (the DTO's field) and still keep only
the rows we asked for, so a filter R1 ignored costs pages, never a wrong answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from engine.activities import ActivityResult, PollCost
from workflows.r1.errors import R1Error, error_for_activity
from workflows.r1.meter import metering
from workflows.r1.pagination import iter_query

if TYPE_CHECKING:
    from workflows.r1.transport import R1Transport

ACTIVITY_QUERY_ROUTE = "/activities/query"
ACTIVITY_ROUTE = "/activities/{activityId}"
QUERY_KEY = f"POST {ACTIVITY_QUERY_ROUTE}"
MAX_BATCH = 500
FILTER = "requestId"

_DONE_ALIASES = {
    "SUCCESS": "SUCCESS",
    "SUCCEEDED": "SUCCESS",
    "COMPLETED": "SUCCESS",
    "FAIL": "FAIL",
    "FAILED": "FAIL",
    "FAILURE": "FAIL",
    "ERROR": "FAIL",
}


def epoch(value: Any) -> float | None:
    """An ActivityDto date-time (ISO 8601; naive means UTC) as epoch seconds."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def to_result(raw: dict[str, Any]) -> ActivityResult | None:
    """One activity JSON -> `ActivityResult` (unknown states read as in progress;
    `startDatetime`/`endDatetime` tell the poller how young activities finish)."""
    ident = raw.get("requestId")
    if not ident:
        return None
    status = str(raw.get("status") or "").upper()
    status = _DONE_ALIASES.get(status, "PENDING" if status == "PENDING" else "INPROGRESS")
    error = raw.get("error")
    if error is not None and not isinstance(error, str):
        error = json.dumps(error)
    return ActivityResult(
        id=str(ident), status=status, error=error, data=raw,
        started=epoch(raw.get("startDatetime")), ended=epoch(raw.get("endDatetime")),
    )  # fmt: skip


def raise_for_activity(result: ActivityResult) -> ActivityResult:
    """Return a SUCCESS (or unfinished) result; raise the right typed error on FAIL."""
    if result.status == "FAIL":
        raise error_for_activity(result.id, result.error)
    return result


class R1ActivityBackend:
    """`engine.activities.ActivityBackend` over R1's bulk activity query."""

    max_batch = MAX_BATCH

    def __init__(self, client: R1Transport) -> None:
        self.client = client

    @property
    def poll_intervals(self) -> tuple[float, float]:
        """The poller's pacing in our seconds (R1's, scaled like the simulator)."""
        lo, hi = self.client.config.poll_intervals
        return self.client.config.scaled(lo), self.client.config.scaled(hi)

    async def measured_query(
        self, ids: Sequence[str]
    ) -> tuple[dict[str, ActivityResult] | None, PollCost]:
        """`query` for the poller: its calls counted apart (charged to the jobs
        waiting, not to the task that started the poller); failures are the
        poller's to retry (it polls again), so they come back as None."""
        results: dict[str, ActivityResult] | None
        with metering(caller_retries=True, retry_idempotent=False) as tally:
            try:
                results = await self.query(ids)
            except R1Error:
                results = None
        cost = PollCost(calls=tally.calls, polls=tally.routes[QUERY_KEY],
                        rate_limited=tally.rate_limited)  # fmt: skip
        return results, cost

    def __repr__(self) -> str:
        return f"R1ActivityBackend({self.client!r})"

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
        """Status of many activities: one call per 500 ids (paged if R1 pages)."""
        wanted = set(ids)
        out: dict[str, ActivityResult] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), MAX_BATCH):
            chunk = unique[start : start + MAX_BATCH]
            body = {"filters": {FILTER: chunk}}
            async for raw in iter_query(
                self.client, ACTIVITY_QUERY_ROUTE, body, page_size=len(chunk)
            ):
                result = to_result(raw) if isinstance(raw, dict) else None
                if result is not None and result.id in wanted:
                    out[result.id] = result
        return out

    async def get_activity(self, activity_id: str) -> ActivityResult | None:
        """One activity by id; None while R1 does not know it yet (404)."""
        resp = await self.client.send(
            "GET", ACTIVITY_ROUTE, path={"activityId": activity_id}, accept=(404,)
        )
        if resp.status_code == 404:
            return None
        raw = resp.json() if resp.content else None
        return to_result(raw) if isinstance(raw, dict) else None
