"""Activities: the asynchronous half of every R1 write.

A write's effect is a closure applied when its activity completes, not at
request time, so a duplicate name is discovered by the *activity* (FAIL), as
in R1. Progress is lazy: nothing runs in the background; `settle(now)` applies
every activity whose completion time has passed, in completion order, and is
called at the start of each request. Status is derived from the clock.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workflows.sim.errors import ActivityFailure

Apply = Callable[[], dict[str, Any] | None]


@dataclass(slots=True)
class Activity:
    id: str
    use_case: str
    created_at: float
    pending_until: float
    done_at: float
    visible_at: float
    apply: Apply | None
    forced_failure: ActivityFailure | None = None
    polls_hidden: int = 0
    status: str | None = None  # final status once settled
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    route: str = ""
    subject: dict[str, str] = field(default_factory=dict)
    """The operation's logical subject (route, names of the path's resources, body
    names): what its duration is drawn for (`Simulator.draw_duration`)."""
    duration: float = 0.0
    """Drawn duration in R1 seconds (before `time_scale`)."""

    def status_at(self, now: float) -> str:
        if self.status is not None:
            return self.status
        return "PENDING" if now < self.pending_until else "INPROGRESS"


class ActivityBook:
    """All activities by id, plus a heap of the unsettled ones by completion time."""

    def __init__(self, tenant_id: str, wall_origin: float, clock_origin: float) -> None:
        self.tenant_id = tenant_id
        self._wall_origin = wall_origin
        self._clock_origin = clock_origin
        self.by_id: dict[str, Activity] = {}
        self._heap: list[tuple[float, int, Activity]] = []
        self._seq = itertools.count()
        self.finished: Counter[str] = Counter()

    def add(self, activity: Activity) -> None:
        self.by_id[activity.id] = activity
        heapq.heappush(self._heap, (activity.done_at, next(self._seq), activity))

    def settle(self, now: float) -> int:
        """Complete every activity due by `now`; returns how many completed."""
        done = 0
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, activity = heapq.heappop(heap)
            self._complete(activity)
            done += 1
        return done

    def _complete(self, activity: Activity) -> None:
        apply, activity.apply = activity.apply, None
        try:
            if activity.forced_failure is not None:
                raise activity.forced_failure
            result = apply() if apply is not None else None
        except ActivityFailure as failure:
            activity.status = "FAIL"
            activity.error = failure.encode(activity.id)
        else:
            activity.status = "SUCCESS"
            if result:
                activity.result = result
        self.finished[activity.status] += 1

    def lookup(self, activity_id: str, now: float) -> Activity | None:
        """The activity as a client may see it: None while it still 404s."""
        activity = self.by_id.get(activity_id)
        if activity is None or now < activity.visible_at:
            return None
        if activity.polls_hidden > 0:
            activity.polls_hidden -= 1
            return None
        return activity

    def unsettled_counts(self, now: float) -> Counter[str]:
        return Counter(a.status_at(now) for _, _, a in self._heap)

    def to_json(self, activity: Activity, now: float) -> dict[str, Any]:
        status = activity.status_at(now)
        body: dict[str, Any] = {  # activities_api ActivityDto: `requestId`, no `id`
            "requestId": activity.id,
            "tenantId": self.tenant_id,
            "useCase": activity.use_case,
            "product": "WIFI",
            "status": status,
            "startDatetime": self._iso(activity.created_at),
        }
        if status in ("SUCCESS", "FAIL"):
            body["endDatetime"] = self._iso(activity.done_at)
        if activity.error is not None:
            body["error"] = activity.error
        if activity.result:
            body.update(activity.result)
        return body

    def _iso(self, at: float) -> str:
        wall = self._wall_origin + (at - self._clock_origin)
        return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds")

    def log(self, time_scale: float, now: float) -> list[dict[str, Any]]:
        """Every activity in creation order (`GET /_sim/activities`): times in R1
        seconds since the simulator started, so a benchmark computes its bound from
        the durations actually drawn whatever the time scale."""

        def r1(at: float) -> float:
            return round((at - self._clock_origin) / time_scale, 6)

        return [
            {
                "requestId": a.id,
                "useCase": a.use_case,
                "route": a.route,
                "subject": a.subject,
                "created": r1(a.created_at),
                "duration": round(a.duration, 6),
                "done": r1(a.done_at),
                "status": a.status_at(now),
            }
            for a in self.by_id.values()
        ]

    def many(self, ids: Iterable[str], now: float) -> list[Activity]:
        found = (self.lookup(i, now) for i in ids)
        return [a for a in found if a is not None]
