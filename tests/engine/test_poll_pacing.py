"""The activity poller's pacing (backs off while nothing changes, resets when
something finishes, never polls with nothing outstanding) and its cost accounts
(each poll charged once to each job that had an activity in it). Deterministic:
a fake clock that only the poller's own sleeps move."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from engine.activities import POLL_ACCOUNT, ActivityResult, ActivityTracker, PollCost

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


class Backend:
    """Activities finish at given (fake) times; each poll costs one call."""

    max_batch = 500
    poll_intervals = (1.0, 5.0)

    def __init__(self, clock: Clock, done_at: dict[str, float], *, limited: int = 0) -> None:
        self.clock = clock
        self.done_at = done_at
        self.polled_at: list[float] = []
        self.limited = limited

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
        self.polled_at.append(self.clock.now)
        now = self.clock.now
        return {i: ActivityResult(id=i, status="SUCCESS") for i in ids
                if self.done_at.get(i, float("inf")) <= now}  # fmt: skip

    async def measured_query(self, ids: Sequence[str]) -> tuple[dict, PollCost]:
        results = await self.query(ids)
        limited, self.limited = min(self.limited, 1), max(0, self.limited - 1)
        return results, PollCost(calls=1 + limited, polls=1 + limited, rate_limited=limited)


class Account:
    def __init__(self, key: str) -> None:
        self.key = key
        self.charged: list[PollCost] = []

    def charge(self, cost: PollCost) -> None:
        self.charged.append(cost)

    def total(self, name: str) -> int:
        return sum(getattr(c, name) for c in self.charged)


async def wait_as(tracker: ActivityTracker, account: Account | None, activity_id: str) -> None:
    token = POLL_ACCOUNT.set(account)
    try:
        await tracker.wait(activity_id, timeout=1000)
    finally:
        POLL_ACCOUNT.reset(token)


async def test_backs_off_while_nothing_changes_and_resets_when_something_finishes() -> None:
    clock = Clock()
    backend = Backend(clock, {"slow": 20.0, "late": 25.0})
    tracker = ActivityTracker(backend, clock=clock, sleep=clock.sleep)
    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        async with anyio.create_task_group() as waits:
            waits.start_soon(wait_as, tracker, None, "slow")
            waits.start_soon(wait_as, tracker, None, "late")
        tg.cancel_scope.cancel()
    # 1 s, then x1.5 per poll that saw nothing finish, capped at 5 s; the poll at
    # 21.3 s saw "slow" finish, so the next pause is 1 s again
    assert tracker.intervals[:7] == pytest.approx([1.0, 1.5, 2.25, 3.375, 5.0, 5.0, 5.0])
    assert backend.polled_at[:7] == pytest.approx([1.0, 2.5, 4.75, 8.125, 13.125, 18.125,
                                                   23.125])  # fmt: skip
    assert tracker.intervals[7] == pytest.approx(1.0)
    assert tracker.stats.polls == len(backend.polled_at) == 9
    assert tracker.stats.finished == 2


async def test_no_poll_without_waiters_and_a_fresh_start_after_idling() -> None:
    clock = Clock()
    backend = Backend(clock, {"a": 0.5, "b": 100.5})
    tracker = ActivityTracker(backend, clock=clock, sleep=clock.sleep)
    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        await wait_as(tracker, None, "a")
        idle_polls = len(backend.polled_at)
        for _ in range(50):  # nothing outstanding: the poller sleeps on its event
            await anyio.lowlevel.checkpoint()
        assert len(backend.polled_at) == idle_polls == 1
        clock.now = 100.0
        await wait_as(tracker, None, "b")
        tg.cancel_scope.cancel()
    assert backend.polled_at == pytest.approx([1.0, 101.0])  # 1 s after each first waiter


async def test_polls_are_charged_once_per_job_with_activities_in_them() -> None:
    clock = Clock()
    backend = Backend(clock, {"j1-a": 2.0, "j1-b": 2.0, "j2-a": 6.0}, limited=1)
    tracker = ActivityTracker(backend, clock=clock, sleep=clock.sleep)
    job1, job2 = Account("job-1"), Account("job-2")
    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        async with anyio.create_task_group() as waits:
            waits.start_soon(wait_as, tracker, job1, "j1-a")
            waits.start_soon(wait_as, tracker, job1, "j1-b")
            waits.start_soon(wait_as, tracker, job2, "j2-a")
        tg.cancel_scope.cancel()
    # polls at 1 (a 429 and its retry: 2 calls), 2.5 (job 1 done), 3.5, 5.0, 7.25 (job 2 done)
    assert backend.polled_at == pytest.approx([1.0, 2.5, 3.5, 5.0, 7.25])
    assert job1.total("activities") == 2 and job2.total("activities") == 1
    assert job1.total("polls") == 3 and job1.total("rate_limited") == 1  # two polls, one 429
    assert job2.total("polls") == 6 and job2.total("calls") == 6  # it was in every poll
    assert tracker.stats.polls == 5


async def test_a_backend_without_costs_charges_nobody() -> None:
    class Plain(Backend):
        measured_query = None  # type: ignore[assignment]

    clock = Clock()
    tracker = ActivityTracker(Plain(clock, {"x": 0.0}), clock=clock, sleep=clock.sleep)
    job = Account("job")
    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        await wait_as(tracker, job, "x")
        tg.cancel_scope.cancel()
    assert job.charged == []
