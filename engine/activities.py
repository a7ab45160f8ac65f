"""The activity tracker: one poller for every outstanding asynchronous activity.

Writes against slow cloud APIs answer "accepted" with a request id and finish
30-90 s later. Instead of one polling loop per waiter, waiters register their
id here; a single poller asks the backend about many ids per call and wakes
exactly the waiters whose activities finished. The poll interval tightens
when few activities remain (they are likely about to finish) and relaxes
when thousands are outstanding.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import anyio
from pydantic import BaseModel, Field

from engine.errors import ActivityTimeoutError

ActivityState = Literal["PENDING", "INPROGRESS", "SUCCESS", "FAIL"]


class ActivityResult(BaseModel):
    """What the backend knows of one activity."""

    id: str
    status: ActivityState
    error: str | None = None
    """Raw error text of a FAIL (the backend's format; the workflow decodes it)."""
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in ("SUCCESS", "FAIL")


@runtime_checkable
class ActivityBackend(Protocol):
    """Answers for many activity ids at once (e.g. R1 `POST /activities/query`).

    Ids the backend does not know yet (R1 answers 404 right after a 202) are
    simply left out of the result: the tracker treats them as "not yet".
    """

    max_batch: int

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]: ...


class TrackerStats(BaseModel):
    outstanding: int = 0
    polls: int = 0
    ids_polled: int = 0
    finished: int = 0
    timed_out: int = 0
    poll_errors: int = 0


class _Waiter:
    __slots__ = ("deadline", "event", "result")

    def __init__(self, deadline: float) -> None:
        self.event = anyio.Event()
        self.result: ActivityResult | None = None
        self.deadline = deadline


class ActivityTracker:
    """Bulk poller for one backend. Start it with `async with tracker.running():`
    or let `wait()` start it lazily inside a task group passed to `run()`."""

    def __init__(
        self,
        backend: ActivityBackend,
        *,
        batch_size: int = 500,
        min_interval: float = 0.05,
        max_interval: float = 2.0,
        timeout: float = 600.0,
        clock: Any = time.monotonic,
    ) -> None:
        self.backend = backend
        self.batch_size = max(1, min(batch_size, getattr(backend, "max_batch", batch_size)))
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.timeout = timeout
        self._clock = clock
        self._waiters: dict[str, list[_Waiter]] = {}
        self._wakeup = anyio.Event()
        self.stats = TrackerStats()

    # -- waiting ----------------------------------------------------------

    async def wait(self, activity_id: str, timeout: float | None = None) -> ActivityResult:
        """Wait until the activity is SUCCESS or FAIL; raise on timeout."""
        limit = self.timeout if timeout is None else timeout
        waiter = _Waiter(self._clock() + limit)
        self._waiters.setdefault(activity_id, []).append(waiter)
        self.stats.outstanding = len(self._waiters)
        self._wakeup.set()
        try:
            await waiter.event.wait()
        finally:
            self._forget(activity_id, waiter)
        if waiter.result is None:
            self.stats.timed_out += 1
            raise ActivityTimeoutError(f"activity {activity_id} did not finish within {limit:g}s")
        return waiter.result

    def _forget(self, activity_id: str, waiter: _Waiter) -> None:
        waiters = self._waiters.get(activity_id)
        if waiters and waiter in waiters:
            waiters.remove(waiter)
            if not waiters:
                del self._waiters[activity_id]
        self.stats.outstanding = len(self._waiters)

    # -- polling ----------------------------------------------------------

    def interval(self) -> float:
        """Poll interval for the current load: tight when few, relaxed when many."""
        n = len(self._waiters)
        if n == 0:
            return self.max_interval
        rounds = math.ceil(n / self.batch_size)
        return min(self.max_interval, self.min_interval * (1 + math.log2(n)) * rounds)

    async def run(self) -> None:
        """The poller loop; run it in a task group for the tracker's lifetime."""
        while True:
            if not self._waiters:
                self._wakeup = anyio.Event()
                await self._wakeup.wait()
            await anyio.sleep(self.interval())
            await self.poll_once()

    async def poll_once(self) -> None:
        ids = list(self._waiters)
        now = self._clock()
        for start in range(0, len(ids), self.batch_size):
            batch = ids[start : start + self.batch_size]
            try:
                results = await self.backend.query(batch)
            except Exception:  # a failed poll is retried next round
                self.stats.poll_errors += 1
                results = {}
            self.stats.polls += 1
            self.stats.ids_polled += len(batch)
            for activity_id in batch:
                result = results.get(activity_id)
                for waiter in list(self._waiters.get(activity_id, ())):
                    if result is not None and result.done:
                        waiter.result = result
                        waiter.event.set()
                        self.stats.finished += 1
                    elif now >= waiter.deadline:
                        waiter.event.set()
