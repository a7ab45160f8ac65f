"""The activity poller's pacing (backs off while nothing changes, leaves out
activities too young to be done, paces by the completions it expects, never polls
with nothing outstanding) and its cost accounts (each poll charged once to each job
that had an activity in it). Deterministic: a fake clock that only the poller's
own sleeps move."""

from __future__ import annotations

import random
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


async def test_backs_off_while_nothing_changes_then_paces_by_what_it_saw_finish() -> None:
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
    # 23.1 s saw "slow" finish: one in the last 5 s, with one left, so 5 s again
    assert tracker.intervals[:7] == pytest.approx([1.0, 1.5, 2.25, 3.375, 5.0, 5.0, 5.0])
    assert backend.polled_at == pytest.approx([1.0, 2.5, 4.75, 8.125, 13.125, 18.125,
                                               23.125, 28.125])  # fmt: skip
    assert tracker.stats.polls == len(backend.polled_at) == 8
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


class Timed(Backend):
    """Activities with the backend's start and end times (R1's start/endDatetime)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock, {})
        self.started: dict[str, float] = {}
        self.asked: list[tuple[float, list[str]]] = []

    def submit(self, activity_id: str, duration: float) -> None:
        self.started[activity_id] = self.clock.now
        self.done_at[activity_id] = self.clock.now + duration

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
        now = self.clock.now
        self.polled_at.append(now)
        self.asked.append((now, sorted(ids)))
        return {
            i: ActivityResult(id=i, status="SUCCESS", started=self.started[i],
                              ended=self.done_at[i]) if self.done_at[i] <= now
            else ActivityResult(id=i, status="INPROGRESS", started=self.started[i])
            for i in ids
        }  # fmt: skip


async def wait_until(clock: Clock, at: float) -> None:
    while clock.now < at:
        await anyio.lowlevel.checkpoint()


async def test_activities_younger_than_any_seen_done_are_not_polled() -> None:
    """Once one activity was seen finishing 30 s after it started, a new one is asked
    about once (the backend says when it started), then not before it is 29 s old (30 s
    less one minimum pause): no poll at all while none is old enough, and a young one is
    left out of the polls of older ones."""
    clock = Clock()
    backend = Timed(clock)
    tracker = ActivityTracker(backend, clock=clock, wall=clock, sleep=clock.sleep)

    async def submit_and_wait(activity_id: str, duration: float, at: float = 0.0) -> None:
        await wait_until(clock, at)
        backend.submit(activity_id, duration)
        await wait_as(tracker, None, activity_id)

    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        await submit_and_wait("a", 30.0)
        assert tracker.stats.min_age == 30.0
        clock.now = 40.0
        polls_before = len(backend.polled_at)
        async with anyio.create_task_group() as waits:
            waits.start_soon(submit_and_wait, "b", 35.0)  # started at 40, done at 75
            waits.start_soon(submit_and_wait, "c", 40.0, 70.0)  # started once past 70
        tg.cancel_scope.cancel()
    later = backend.asked[polls_before:]
    # each new activity is asked about once (when did it start?), then not before it is
    # 29 s old: b (40) at 41, then from 69; c (70.5) in the poll at 70.5, then from 99.5
    assert later == [(41.0, ["b"]), (69.0, ["b"]), (70.5, ["b", "c"]), (72.75, ["b"]),
                     (76.125, ["b"]), (99.5, ["c"]), (101.0, ["c"]), (103.25, ["c"]),
                     (106.625, ["c"]), (111.625, ["c"])]  # fmt: skip
    # noticed 3.125 s (a: 30 -> 33.125), 1.125 s (b: 75 -> 76.125), 1.125 s (c) late
    assert tracker.stats.notice_lag_total == pytest.approx(3.125 + 1.125 + 1.125)
    assert tracker.stats.notice_lag_max == pytest.approx(3.125)


async def test_a_busy_poller_polls_little_yet_notices_completions_promptly() -> None:
    """The W500 shape: 500 units, each a chain of 4 steps of 3 activities of 30-90 s
    waited together (the next step submitted when the last is seen done; 6,000
    activities, about 6 minutes): at most 0.05 query calls per activity, and a
    completion noticed within 2 s of its end on average (R1's pacing: 1 s to 5 s)."""
    clock = Clock()
    backend = Timed(clock)
    tracker = ActivityTracker(backend, clock=clock, wall=clock, sleep=clock.sleep)
    rng = random.Random(12)
    steps = [[[rng.uniform(30.0, 90.0) for _ in range(3)] for _ in range(4)] for _ in range(500)]

    async def unit(u: int) -> None:
        for k, durations in enumerate(steps[u]):
            ids = [f"{u}-{k}-{j}" for j in range(3)]
            for activity_id, duration in zip(ids, durations, strict=True):
                backend.submit(activity_id, duration)
            async with anyio.create_task_group() as tg:
                for activity_id in ids:
                    tg.start_soon(wait_as, tracker, None, activity_id)

    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        async with anyio.create_task_group() as units:
            for u in range(500):
                units.start_soon(unit, u)
        tg.cancel_scope.cancel()
    stats = tracker.stats
    assert stats.finished == stats.noticed == 6000
    assert stats.polls / 6000 <= 0.05
    assert stats.notice_lag_mean <= 2.0
    bound = max(sum(max(step) for step in chain) for chain in steps)
    assert clock.now <= bound + 4 * 2 * 5.0  # each step noticed within two 5 s pauses


class Ticking(Clock):
    """Time that passes in 0.5 s ticks while the poller sleeps (a sleep cut short
    by a new waiter stops where it was), so waiters can come mid-pause."""

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now = min(end, self.now + 0.5)
            await anyio.lowlevel.checkpoint()


async def test_a_waiter_for_an_activity_that_started_long_ago_is_not_kept_waiting() -> None:
    """While the poller sleeps until its young activities are old enough, a waiter
    comes for one that started (and ended) long before: it is asked about at the next
    pause's end, not when the young ones are old enough."""
    clock = Ticking()
    backend = Timed(clock)
    tracker = ActivityTracker(backend, clock=clock, wall=clock, sleep=clock.sleep)
    backend.submit("early", 30.0)  # 0 -> 30: teaches the poller that 30 s is the minimum
    backend.submit("old", 44.0)  # 0 -> 44, waited for only at 50 (after something else)
    noticed: dict[str, float] = {}

    async def waits_for(activity_id: str, at: float) -> None:
        await wait_until(clock, at)
        if activity_id == "young":
            backend.submit("young", 60.0)
        await wait_as(tracker, None, activity_id)
        noticed[activity_id] = clock.now

    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        await waits_for("early", 0.0)
        clock.now = 40.0  # idle meanwhile
        async with anyio.create_task_group() as waits:
            waits.start_soon(waits_for, "young", 40.0)  # not worth a poll before 69
            waits.start_soon(waits_for, "old", 50.0)
        tg.cancel_scope.cancel()
    assert noticed["early"] == pytest.approx(33.125)  # polls at 1, 2.5, ..., 33.125
    assert 50.0 <= noticed["old"] <= 50.0 + 5.0  # not 69
    assert not [at for at, ids in backend.asked if "young" in ids and 41.0 < at < 69.0]


async def test_a_round_asks_whole_calls_new_then_oldest_first() -> None:
    """With 14 ids old enough and 10 per call, a round makes one call, not a second
    one for 4: the ones never asked about, then the oldest, fill it; with 16, two."""
    clock = Clock()
    backend = Timed(clock)
    backend.max_batch = 10
    tracker = ActivityTracker(backend, clock=clock, wall=clock, sleep=clock.sleep)
    async with anyio.create_task_group() as tg:
        for k in range(14):
            clock.now = float(k)
            backend.submit(f"a{k:02}", 1000.0)
            tg.start_soon(wait_as, tracker, None, f"a{k:02}")
            await anyio.lowlevel.checkpoint()
        clock.now = 100.0
        await tracker.poll_once()
        assert backend.asked == [(100.0, [f"a{k:02}" for k in range(10)])]
        await tracker.poll_once()  # the 4 never asked about, then the 6 oldest
        assert backend.asked[1] == (
            100.0,
            sorted([f"a{k:02}" for k in (*range(6), 10, 11, 12, 13)]),
        )
        for k in (14, 15):
            backend.submit(f"a{k:02}", 1000.0)
            tg.start_soon(wait_as, tracker, None, f"a{k:02}")
            await anyio.lowlevel.checkpoint()
        await tracker.poll_once()
        assert sorted(i for _, ids in backend.asked[2:] for i in ids) == [
            f"a{k:02}" for k in range(16)
        ]
        assert tracker.stats.polls == 4
        tg.cancel_scope.cancel()
