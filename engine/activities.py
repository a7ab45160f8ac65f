"""The activity tracker: one poller for every outstanding asynchronous activity.

Writes against slow cloud APIs answer "accepted" with a request id and finish
30-90 s later. Instead of one polling loop per waiter, waiters register their
id here; a single poller asks the backend about many ids per call and wakes
exactly the waiters whose activities finished.

Pacing (`engine.poll_pacing`): the first poll comes `min_interval` after the
first waiter arrives; activities younger than any seen finishing are left out of
a poll (with none old enough, no poll at all); after a poll that saw completions,
the next comes when many more are expected per call; while nothing finishes the
pause grows 1.5x up to `max_interval`. A waiter arriving meanwhile joins the next
poll and does not hurry it. Intervals default to the backend's `poll_intervals`
(R1: 1 s up to 5 s, scaled with a simulator's time scale).

The poller is an engine task of its own: its calls go ahead of every cell's
(`engine.limits.POLL_PRIORITY`) and it charges no cell's account.

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
from engine.limits import CALL_PRIORITY, POLL_PRIORITY
from engine.poll_pacing import PollPacer
from engine.poll_stats import TrackerStats

__all__ = ["POLL_ACCOUNT", "ActivityBackend", "ActivityResult", "ActivityTracker", "PollCost",
           "TrackerStats"]  # fmt: skip

ActivityState = Literal["PENDING", "INPROGRESS", "SUCCESS", "FAIL"]


class ActivityResult(BaseModel):
    """What the backend knows of one activity."""

    id: str
    status: ActivityState
    error: str | None = None
    """Raw error text of a FAIL (the backend's format; the workflow decodes it)."""
    data: dict[str, Any] = Field(default_factory=dict)
    started: float | None = None
    ended: float | None = None
    """When it started and finished (epoch seconds, the backend's clock), if known."""

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


class _Waiter:
    __slots__ = ("account", "deadline", "event", "result")

    def __init__(self, deadline: float, account: PollAccount | None) -> None:
        self.event = anyio.Event()
        self.result: ActivityResult | None = None
        self.deadline = deadline
        self.account = account


class _Tracked:
    """One outstanding activity: its waiters, since when (ours and wall), last poll,
    and whether the backend answered for it yet."""

    __slots__ = ("known", "polled_at", "since", "since_wall", "waiters")

    def __init__(self, since: float, since_wall: float) -> None:
        self.waiters: list[_Waiter] = []
        self.since = since
        self.since_wall = since_wall
        self.polled_at: float | None = None
        self.known = False


class ActivityTracker:
    """Bulk poller for one backend: run `run()` in a task group for its lifetime
    (`engine.trackers.Trackers` does, as an engine task)."""

    def __init__(
        self,
        backend: ActivityBackend,
        *,
        batch_size: int = 500,
        min_interval: float | None = None,
        max_interval: float | None = None,
        timeout: float = 600.0,
        clock: Any = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        growth: float = 1.5,
    ) -> None:
        self.backend = backend
        self.batch_size = max(1, min(batch_size, getattr(backend, "max_batch", batch_size)))
        lo, hi = getattr(backend, "poll_intervals", (1.0, 5.0))
        self.min_interval = lo if min_interval is None else min_interval
        self.max_interval = max(self.min_interval, hi if max_interval is None else max_interval)
        self.pacer = PollPacer(self.min_interval, self.max_interval, growth=growth)
        self.timeout = timeout
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._waiters: dict[str, _Tracked] = {}
        self._wakeup = anyio.Event()
        self._last_start: float | None = None
        self._last_end = clock()
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
        now = self._clock()
        waiter = _Waiter(now + limit, account)
        tracked = self._waiters.get(activity_id)
        if tracked is None:
            tracked = self._waiters[activity_id] = _Tracked(now, self._wall())
        tracked.waiters.append(waiter)
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
        tracked = self._waiters.get(activity_id)
        if tracked is not None and waiter in tracked.waiters:
            tracked.waiters.remove(waiter)
            if not tracked.waiters:
                del self._waiters[activity_id]
        self.stats.outstanding = len(self._waiters)

    def _expire(self, now: float) -> None:
        """Wake (empty-handed) every waiter past its deadline."""
        for activity_id, tracked in list(self._waiters.items()):
            for waiter in [w for w in tracked.waiters if now >= w.deadline]:
                waiter.event.set()
                self._forget(activity_id, waiter)

    # -- polling ----------------------------------------------------------

    def interval(self) -> float:
        """The pause after a poll before the next one."""
        return self.pacer.interval

    def _eligible_at(self, tracked: _Tracked) -> float:
        """When an activity is worth polling: one the backend has not answered for yet
        is asked about at once (it may have started long before its waiter came, and
        the answer says when it did); then once it is old enough to be done."""
        if not tracked.known:
            return tracked.since
        return self.pacer.eligible_at(tracked.since)

    def _next_poll(self) -> tuple[float, bool]:
        """When to poll next, and whether that is a nap (nothing old enough before the
        pause is over: a new waiter ends it). Sooner only to wake a waiter whose
        deadline passed. Activities that just became old enough start the pacing
        over from the shortest pause."""
        tracked = self._waiters.values()
        eligible = min(self._eligible_at(t) for t in tracked)
        deadline = min(w.deadline for t in tracked for w in t.waiters)
        start = self._last_end if self._last_start is None else self._last_start
        due = max(self._last_end, start + self.pacer.interval)  # from poll to poll
        if eligible > due:
            self.pacer.restart()
        at = max(due, eligible)
        return min(at, deadline), eligible > due and at <= deadline

    async def _nap(self, seconds: float) -> None:
        """Sleep, unless a new waiter comes first."""
        self._wakeup = anyio.Event()
        async with anyio.create_task_group() as tg:

            async def sleep() -> None:
                await self._sleep(seconds)
                tg.cancel_scope.cancel()

            async def woken() -> None:
                await self._wakeup.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(sleep)
            tg.start_soon(woken)

    async def run(self) -> None:
        """The poller loop: an engine task of its own (its calls go first and are
        charged to no cell), whatever task started it."""
        CALL_PRIORITY.set(POLL_PRIORITY)
        POLL_ACCOUNT.set(None)
        while True:
            if not self._waiters:
                self._wakeup = anyio.Event()
                await self._wakeup.wait()
                self.pacer.restart()  # a fresh start after an idle spell
                self._last_start = self._last_end = self._clock()
                continue
            now = self._clock()
            at, nap = self._next_poll()
            if at > now:
                self.intervals.append(at - now)
                if nap:
                    await self._nap(at - now)
                    continue
                await self._sleep(at - now)
            await self.poll_once()

    async def poll_once(self) -> int:
        """One round over every outstanding id old enough to be done (its batches
        concurrently); returns how many waiters it woke."""
        now = self._clock()
        pacer = self.pacer
        ids = self._round(now)
        if not ids:
            self._expire(now)
            return 0
        opened = min(self._eligible_at(self._waiters[i]) for i in ids)
        since = opened if self._last_start is None else self._last_start
        batches = [ids[i : i + self.batch_size] for i in range(0, len(ids), self.batch_size)]
        answers: list[tuple[dict[str, ActivityResult] | None, PollCost | None]] = [
            (None, None)
        ] * len(batches)

        async def ask(n: int) -> None:
            answers[n] = await self._query(batches[n])

        if len(batches) == 1:
            await ask(0)
        else:
            async with anyio.create_task_group() as tg:
                for n in range(len(batches)):
                    tg.start_soon(ask, n)
        seen, seen_wall = self._clock(), self._wall()
        woke = done_ids = 0
        for batch, (found, cost) in zip(batches, answers, strict=True):
            self.stats.polls += 1
            self.stats.ids_polled += len(batch)
            if found is None:  # a failed poll is retried next round
                self.stats.poll_errors += 1
            if cost is not None:
                self.stats.calls += cost.calls
                self.stats.rate_limited += cost.rate_limited
                self._charge(batch, cost)
            for activity_id in batch:
                tracked = self._waiters.get(activity_id)
                if tracked is None:  # its waiters gave up meanwhile
                    continue
                result = (found or {}).get(activity_id)
                if result is None or not result.done:
                    tracked.polled_at = now
                    if result is not None:
                        self._started(tracked, result, seen, seen_wall)
                    continue
                self._noticed(tracked, result, seen, seen_wall)
                del self._waiters[activity_id]
                done_ids += 1
                for waiter in tracked.waiters:
                    waiter.result = result
                    waiter.event.set()
                    woke += 1
        self.stats.rounds += 1
        self.stats.finished += woke
        self._expire(now)
        self.stats.outstanding = len(self._waiters)
        pacer.paced(done_ids, now - max(since, opened), len(batches), len(ids))
        self.stats.min_age = pacer.min_age
        self._last_start, self._last_end = now, seen
        return woke

    def _round(self, now: float) -> list[str]:
        """The ids a round asks about: those old enough to be done, in whole calls. When
        more than one call's worth are, the ones not asked about yet and then the oldest
        (likeliest done) fill the calls; a remainder of less than half a call waits for
        the next round instead of costing a call of its own."""
        ids = [i for i, t in self._waiters.items() if self._eligible_at(t) <= now]
        size = self.batch_size
        if len(ids) <= size:
            return ids
        calls = max(1, round(len(ids) / size))
        if calls * size >= len(ids):
            return ids
        ids.sort(key=lambda i: (self._waiters[i].known, self._waiters[i].since))
        return ids[: calls * size]

    async def _query(
        self, batch: Sequence[str]
    ) -> tuple[dict[str, ActivityResult] | None, PollCost | None]:
        """One query call: (results, or None when it failed; its cost, if measured)."""
        measured = getattr(self.backend, "measured_query", None)
        try:
            if measured is not None:  # (None, cost) when the poll failed
                return await measured(batch)
            return await self.backend.query(batch), None
        except Exception:
            return None, None

    @staticmethod
    def _started(tracked: _Tracked, result: ActivityResult, seen: float, wall: float) -> None:
        """The backend answered for an unfinished activity: it may have started before
        its waiter came (the backend's start, on our clock; never later than we
        registered it, whatever the clocks' skew)."""
        tracked.known = True
        if result.started is not None:
            tracked.since = min(tracked.since, seen - (wall - result.started))

    def _noticed(self, tracked: _Tracked, result: ActivityResult, seen: float, wall: float) -> None:
        """Learn how young an activity can finish; count how late we saw it."""
        if result.started is not None and result.ended is not None:
            self.pacer.learn(result.ended - result.started)
        else:
            self.pacer.learn(seen - tracked.since)
        if result.ended is not None:
            lag = wall - max(result.ended, tracked.since_wall)
        else:
            last = tracked.polled_at
            lag = seen - (self._eligible_at(tracked) if last is None else last)
        lag = max(0.0, lag)
        stats = self.stats
        stats.noticed += 1
        stats.notice_lag_total += lag
        stats.notice_lag_max = max(stats.notice_lag_max, lag)

    def _charge(self, batch: Sequence[str], cost: PollCost) -> None:
        """Charge a poll once to each account with a waiter in its batch."""
        accounts: dict[str, PollAccount] = {}
        for activity_id in batch:
            tracked = self._waiters.get(activity_id)
            for waiter in tracked.waiters if tracked is not None else ():
                if waiter.account is not None:
                    accounts.setdefault(waiter.account.key, waiter.account)
        for account in accounts.values():
            account.charge(cost)
