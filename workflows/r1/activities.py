"""R1 activities: the engine's bulk-poll backend, and FAIL -> typed error.

R1 writes answer 202 with a `requestId`; the activity behind it finishes
later. `R1ActivityBackend` lets the engine's single `ActivityTracker` ask
about up to 500 ids per `POST /activities/query` call instead of one GET per
waiter. Ids R1 does not know yet (it 404s briefly after a 202) are left out
of the answer, which the tracker reads as "not yet".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.activities import ActivityResult
from workflows.r1.errors import error_for_activity
from workflows.r1.pagination import iter_query

if TYPE_CHECKING:
    from workflows.r1.transport import R1Transport

ACTIVITY_QUERY_ROUTE = "/activities/query"
ACTIVITY_ROUTE = "/activities/{requestId}"
MAX_BATCH = 500

_DONE_ALIASES = {"SUCCESS": "SUCCESS", "SUCCEEDED": "SUCCESS", "COMPLETED": "SUCCESS",
                 "FAIL": "FAIL", "FAILED": "FAIL", "FAILURE": "FAIL", "ERROR": "FAIL"}


def to_result(raw: dict[str, Any]) -> ActivityResult | None:
    """One activity JSON -> `ActivityResult` (unknown states read as in progress)."""
    ident = raw.get("requestId") or raw.get("id")
    if not ident:
        return None
    status = str(raw.get("status") or "").upper()
    status = _DONE_ALIASES.get(status, "PENDING" if status == "PENDING" else "INPROGRESS")
    error = raw.get("error")
    if error is not None and not isinstance(error, str):
        error = json.dumps(error)
    return ActivityResult(id=str(ident), status=status, error=error, data=raw)


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

    def __repr__(self) -> str:
        return f"R1ActivityBackend({self.client!r})"

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
        """Status of many activities: one call per 500 ids (paged if R1 pages)."""
        wanted = set(ids)
        out: dict[str, ActivityResult] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), MAX_BATCH):
            chunk = unique[start : start + MAX_BATCH]
            body = {"filters": {"id": chunk}}
            async for raw in iter_query(self.client, ACTIVITY_QUERY_ROUTE, body,
                                        page_size=len(chunk)):
                result = to_result(raw) if isinstance(raw, dict) else None
                if result is not None and result.id in wanted:
                    out[result.id] = result
        return out

    async def get_activity(self, activity_id: str) -> ActivityResult | None:
        """One activity by id; None while R1 does not know it yet (404)."""
        resp = await self.client.send(
            "GET", ACTIVITY_ROUTE, path={"requestId": activity_id}, accept=(404,)
        )
        if resp.status_code == 404:
            return None
        raw = resp.json() if resp.content else None
        return to_result(raw) if isinstance(raw, dict) else None
