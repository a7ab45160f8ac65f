"""The activity tracker: one poller for every outstanding asynchronous activity.

Writes against slow cloud APIs answer "accepted" with a request id and finish
30-90 s later. Instead of one polling loop per waiter, waiters register their
id here; a single poller asks the backend about many ids per call and wakes
exactly the waiters whose activities finished.

Pacing: the first poll comes `min_interval` after the first waiter arrives;
while a poll sees nothing finish, the next one waits 1.5x longer, up to
`max_interval`; a poll that sees an activity finish resets it to the minimum
(more are likely close behind). A waiter arriving meanwhile joins the next poll
and does not hurry it. Intervals default to the backend's `poll_intervals`
(R1: about 1 s up to 5 s, scaled with a simulator's time scale).

Cost: a backend that can say what a poll cost (`measured_query`) has it charged
to the accounts (`POLL_ACCOUNT`, one per job) of the waiters in that poll's
batch, so polls and their 429s land in the stats of the jobs that needed them,
not in those of whichever cell started the poller.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
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


# Optional on a backend: `poll_intervals: tuple[float, float]` (its pacing, seconds) and
# `async measured_query(ids) -> (results | None, PollCost)` (None: the poll failed).


@dataclass
class PollCost:
    """What polling cost: HTTP calls (all of them), of which activity queries, and 429s."""

    calls: int = 0
    polls: int = 0
    rate_limited: int = 0
    activities: int = 0
    """Activities waited on (charged once per wait)."""


class PollAccount(Protocol):
    """Where a job's share of polling is charged (set `POLL_ACCOUNT` around a wait)."""

    key: str
    """Accounts with one key are charged a poll once (e.g. the job id)."""

    def charge(self, cost: PollCost) -> None: ...


POLL_ACCOUNT: ContextVar[PollAccount | None] = ContextVar("phasegrid_poll_account", default=None)


class TrackerStats(BaseModel):
    outstanding: int = 0
    polls: int = 0
    ids_polled: int = 0
    finished: int = 0
    timed_out: int = 0
    poll_errors: int = 0


class _Waiter:
    __slots__ = ("account", "deadline", "event", "result")

    def __init__(self, deadline: float, account: PollAccount | None) -> None:
        self.event = anyio.Event()
        self.result: ActivityResult | None = None
        self.deadline = deadline
        self.account = account


class ActivityTracker:
    """Bulk poller for one backend. Start it with `async with tracker.running():`
    or let `wait()` start it lazily inside a task group passed to `run()`."""

    def __init__(
        self,
        backend: ActivityBackend,
        *,
        batch_size: int = 500,
        min_interval: float | None = None,
        max_interval: float | None = None,
        timeout: float = 600.0,
        clock: Any = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        growth: float = 1.5,
    ) -> None:
        self.backend = backend
        self.batch_size = max(1, min(batch_size, getattr(backend, "max_batch", batch_size)))
        lo, hi = getattr(backend, "poll_intervals", (1.0, 5.0))
        self.min_interval = lo if min_interval is None else min_interval
        self.max_interval = max(self.min_interval, hi if max_interval is None else max_interval)
        self.growth = growth
        self.timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._interval = self.min_interval
        self._waiters: dict[str, list[_Waiter]] = {}
        self._wakeup = anyio.Event()
        self.stats = TrackerStats()
        self.intervals: list[float] = []
        """The pauses between polls so far (the pacing, for tests and stats)."""

    # -- waiting ----------------------------------------------------------

    async def wait(self, activity_id: str, timeout: float | None = None) -> ActivityResult:
        """Wait until the activity is SUCCESS or FAIL; raise on timeout."""
        limit = self.timeout if timeout is None else timeout
        measured = getattr(self.backend, "measured_query", None) is not None
        account = POLL_ACCOUNT.get() if measured else None
        if account is not None:
            account.charge(PollCost(activities=1))
        waiter = _Waiter(self._clock() + limit, account)
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
        """The pause before the next poll."""
        return self._interval

    def _paced(self, finished: int) -> None:
        """Back off while nothing changes; start over once something finished."""
        if finished:
            self._interval = self.min_interval
        else:
            self._interval = min(self.max_interval, self._interval * self.growth)

    async def run(self) -> None:
        """The poller loop; run it in a task group for the tracker's lifetime."""
        while True:
            if not self._waiters:
                self._wakeup = anyio.Event()
                await self._wakeup.wait()
                self._interval = self.min_interval  # a fresh start after an idle spell
            self.intervals.append(self._interval)
            await self._sleep(self._interval)
            if self._waiters:
                self._paced(await self.poll_once())

    async def poll_once(self) -> int:
        """One round over every outstanding id; returns how many waiters it woke."""
        ids = list(self._waiters)
        now = self._clock()
        finished = 0
        for start in range(0, len(ids), self.batch_size):
            batch = ids[start : start + self.batch_size]
            cost: PollCost | None = None
            measured = getattr(self.backend, "measured_query", None)
            try:
                if measured is not None:  # (None, cost) when the poll failed
                    found, cost = await measured(batch)
                else:
                    found = await self.backend.query(batch)
            except Exception:
                found = None
            if found is None:  # a failed poll is retried next round
                self.stats.poll_errors += 1
            results = found or {}
            self.stats.polls += 1
            self.stats.ids_polled += len(batch)
            if cost is not None:
                self._charge(batch, cost)
            for activity_id in batch:
                result = results.get(activity_id)
                for waiter in list(self._waiters.get(activity_id, ())):
                    if result is not None and result.done:
                        waiter.result = result
                        waiter.event.set()
                        self.stats.finished += 1
                        finished += 1
                    elif now >= waiter.deadline:
                        waiter.event.set()
        return finished

    def _charge(self, batch: Sequence[str], cost: PollCost) -> None:
        """Charge a poll once to each account with a waiter in its batch."""
        accounts: dict[str, PollAccount] = {}
        for activity_id in batch:
            for waiter in self._waiters.get(activity_id, ()):
                if waiter.account is not None:
                    accounts.setdefault(waiter.account.key, waiter.account)
        for account in accounts.values():
            account.charge(cost)
