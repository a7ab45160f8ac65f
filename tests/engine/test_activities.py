"""The activity tracker: one bulk poller, exact wake-ups, timeouts, load-aware interval."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar

import anyio
import pytest

from engine import ActivityResult, ActivityTracker
from engine.errors import ActivityTimeoutError
from engine.limits import TokenBucket
from tests.engine.helpers import make_engine

pytestmark = pytest.mark.anyio


class Backend:
    max_batch = 3

    def __init__(self) -> None:
        self.status: dict[str, str] = {}
        self.calls: list[list[str]] = []

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
        self.calls.append(list(ids))
        return {i: ActivityResult(id=i, status=self.status[i]) for i in ids if i in self.status}


async def test_wakes_exactly_the_finished_waiters_in_bulk_batches():
    backend = Backend()
    tracker = ActivityTracker(backend, batch_size=500, min_interval=0.001, max_interval=0.01)
    woke: list[str] = []

    async def waiter(i: str) -> None:
        result = await tracker.wait(i)
        woke.append(f"{i}:{result.status}")

    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        for i in "abcdefg":
            tg.start_soon(waiter, i)
        await anyio.sleep(0)
        backend.status.update(a="INPROGRESS", b="SUCCESS", c="FAIL")  # d..g: unknown yet (404)
        with anyio.fail_after(5):
            while len(woke) < 2:
                await anyio.sleep(0.001)
        assert sorted(woke) == ["b:SUCCESS", "c:FAIL"]
        backend.status.update({k: "SUCCESS" for k in "adefg"})
        with anyio.fail_after(5):
            while len(woke) < 7:
                await anyio.sleep(0.001)
        tg.cancel_scope.cancel()
    assert all(len(call) <= 3 for call in backend.calls)  # batch capped at the backend's max
    assert tracker.stats.outstanding == 0


async def test_timeout_raises_a_transient_error():
    backend = Backend()
    now = [0.0]
    tracker = ActivityTracker(backend, min_interval=0.001, max_interval=0.01, clock=lambda: now[0])
    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        now[0] = 0.0

        async def advance() -> None:
            await anyio.sleep(0.01)
            now[0] = 100.0

        tg.start_soon(advance)
        with pytest.raises(ActivityTimeoutError) as err:
            await tracker.wait("x", timeout=30)
        assert err.value.transient
        tg.cancel_scope.cancel()


async def test_token_bucket_waits_for_tokens_and_backs_off_on_429():
    now = [0.0]
    slept: list[float] = []

    async def sleep(d: float) -> None:
        slept.append(d)
        now[0] += d

    bucket = TokenBucket(60, burst=2, clock=lambda: now[0], sleep=sleep)  # 1 call per second
    for _ in range(4):
        await bucket.acquire()
    assert slept == [pytest.approx(1.0), pytest.approx(1.0)]  # burst of 2, then 1/s
    bucket.penalize(retry_after=5)
    await bucket.acquire()
    assert now[0] >= 2.0 + 5.0  # paused for Retry-After
    assert bucket.rate < bucket.nominal_rate  # and slowed down for a while


async def test_token_bucket_serves_units_further_along_first():
    """When the rate limit paces a job, the next call goes to the unit furthest along."""
    from engine.limits import CALL_PRIORITY

    now = [0.0]
    release = anyio.Event()

    async def sleep(d: float) -> None:
        await release.wait()  # time stands still until every caller is queued
        now[0] += d

    bucket = TokenBucket(60, burst=1, clock=lambda: now[0], sleep=sleep)
    await bucket.acquire()  # the bucket is empty now
    served: list[str] = []

    async def call(name: str, priority: int) -> None:
        CALL_PRIORITY.set(priority)
        await bucket.acquire()
        served.append(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call, "first-arrival-phase-1", 0)  # holds the gate, sleeping for a token
        for name, prio in (("unit-a-phase-2", -1), ("unit-b-phase-1", 0), ("unit-c-phase-5", -4)):
            await anyio.sleep(0)
            tg.start_soon(call, name, prio)
        for _ in range(5):
            await anyio.sleep(0)
        release.set()
    assert served == ["first-arrival-phase-1", "unit-c-phase-5", "unit-a-phase-2", "unit-b-phase-1"]


async def test_priority_gate_survives_cancelled_waiters():
    from engine.limits import PriorityGate

    gate = PriorityGate()
    await gate.acquire(0)
    got: list[int] = []
    scopes: dict[int, anyio.CancelScope] = {}

    async def waiter(p: int) -> None:
        with anyio.CancelScope() as scope:
            scopes[p] = scope
            await gate.acquire(p)
            got.append(p)
            gate.release()

    async with anyio.create_task_group() as tg:
        for p in (1, 0, 2):
            tg.start_soon(waiter, p)
        await anyio.sleep(0)
        scopes[0].cancel()  # the best waiter gives up before its turn
        await anyio.sleep(0)
        gate.release()
    assert got == [1, 2]


async def test_a_tracker_asked_for_outside_running_is_never_handed_out_unstarted(redis, prefix):
    """Asking an engine that is not running for a tracker fails every time (not just
    the first: a kept, never-started tracker would leave its waiters hanging); once
    running, the tracker it hands out polls."""
    engine = make_engine(redis, prefix)
    backend = Backend()
    for _ in range(2):
        with pytest.raises(RuntimeError, match=r"engine\.running"):
            engine.tracker_for(backend)
    backend.status["a"] = "SUCCESS"
    async with engine.running(worker=False):
        tracker = engine.tracker_for(backend)
        assert engine.tracker_for(backend) is tracker
        with anyio.fail_after(10):
            assert (await tracker.wait("a")).status == "SUCCESS"


async def test_the_poller_is_an_engine_task_ahead_of_every_cell(redis, prefix):
    """The first waiter starts the poller (lazily), from a cell's task: the poller's
    calls still carry the poller's priority (ahead of global cells') and no cell's
    poll account or context."""
    from engine.activities import POLL_ACCOUNT
    from engine.limits import CALL_PRIORITY, POLL_PRIORITY
    from engine.runner import GLOBAL_FIRST

    cell_var: ContextVar[str] = ContextVar("a_cells_own", default="engine")
    seen: list[tuple[int, object, str]] = []

    class Recording(Backend):
        async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
            seen.append((CALL_PRIORITY.get(), POLL_ACCOUNT.get(), cell_var.get()))
            return await super().query(ids)

    class Account:
        key = "job-1"

        def charge(self, cost: object) -> None:
            pass

    engine = make_engine(redis, prefix)
    backend = Recording()
    backend.status["a"] = "SUCCESS"

    async def cell() -> None:
        CALL_PRIORITY.set(7)
        POLL_ACCOUNT.set(Account())
        cell_var.set("cell 0|a")
        tracker = engine.tracker_for(backend)  # the first waiter starts the poller
        with anyio.fail_after(10):
            await tracker.wait("a")

    async with engine.running(worker=False), anyio.create_task_group() as tg:
        tg.start_soon(cell)
    assert seen and set(seen) == {(POLL_PRIORITY, None, "engine")}
    assert POLL_PRIORITY < GLOBAL_FIRST
