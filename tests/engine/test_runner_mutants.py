"""The cell runner's bookkeeping, pinned down (mutmut's survivors in engine/runner.py).

Each test runs a real `Brain` with a real `Journal` writing to real Redis, and
reads back what an operator or a later owner of the job would read: the cell
records, events and attempt logs in Redis. The clock is a counter and the sleep
is recorded, so every figure is exact.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import pytest

from engine import ActivityResult, PhaseSpec, RetryPolicy, WorkflowSpec
from engine.activities import ActivityTracker
from engine.brain import Brain
from engine.errors import PermanentError, PhaseError, RateLimitedError, TransientError
from engine.graph import validate
from engine.journal import Journal
from engine.limits import CALL_PRIORITY
from engine.models import CellRecord
from engine.runner import GLOBAL_FIRST
from engine.store import Store
from tests.engine.helpers import Opts, Unit

pytestmark = pytest.mark.anyio
JOB = "j"


class Ticks:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self._n = itertools.count(100)

    def __call__(self) -> float:
        return float(next(self._n))


class Script:
    """Executor whose attempts follow a script: an exception to raise or outputs."""

    def __init__(self, *outcomes: Any, log: list | None = None) -> None:
        self.outcomes = list(outcomes)
        self.contexts: list[Any] = []
        self.log = log if log is not None else []
        self.name = ""

    async def run(self, ctx: Any) -> dict[str, Any] | None:
        self.contexts.append((ctx.attempt, ctx.first_try))
        self.log.append((ctx.unit_key, ctx.phase.id))
        await anyio.sleep(0)
        outcome = self.outcomes.pop(0) if self.outcomes else {}
        if isinstance(outcome, BaseException):
            raise outcome
        if callable(outcome):
            return await outcome(ctx)
        return outcome


def spec_of(*phases: PhaseSpec) -> list[PhaseSpec]:
    return validate(
        WorkflowSpec(name="w", title="w", phases=tuple(phases), unit_model=Unit, options_model=Opts)
    )


def phase(pid: str, executor: Any, deps: Sequence[str] = (), **kw: Any) -> PhaseSpec:
    return PhaseSpec(id=pid, title=pid, executor=executor, depends_on=tuple(deps), **kw)


class Harness:
    def __init__(self, redis: Any, prefix: str) -> None:
        self.store = Store(redis, prefix=prefix)
        self.sleeps: list[float] = []
        self.clock = Ticks()

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        await anyio.sleep(0)

    def brain(
        self,
        phases: list[PhaseSpec],
        names: Sequence[str] = ("u",),
        *,
        cells: dict[str, CellRecord] | None = None,
        sleep: Callable[[float], Any] | None = None,
        **kw: Any,
    ) -> Brain:
        def journal(b: Brain) -> Journal:
            return Journal(
                self.store,
                JOB,
                fence=None,
                snapshot=b.snapshot,
                on_fenced=lambda: b.stop("fenced", hard=True),
            )

        return Brain(
            job_id=JOB,
            phases=phases,
            unit_keys=list(names),
            units=[Unit(name=n) for n in names],
            options=Opts(),
            journal_factory=journal,
            cells=cells,
            clock=self.clock,
            sleep=sleep or self.sleep,
            rng=random.Random(1),
            **kw,
        )

    async def run(self, brain: Brain) -> None:
        with anyio.fail_after(20):
            await brain.run()

    async def cell(self, field: str) -> CellRecord:
        return (await self.store.cells(JOB))[field]

    async def events(self, kind: str) -> list[Any]:
        return [r.event for r in await self.store.stream.read(JOB) if r.event.type == kind]


@pytest.fixture
def h(redis, prefix) -> Harness:
    return Harness(redis, prefix)


# -- a resumed cell keeps its attempt number and its spent retry budget ------


async def test_a_resumed_cell_counts_on_from_its_recorded_attempts_and_failures(h):
    """Interrupted at attempt 2 with one failure spent: the resume is attempt 3, not
    a first try, and with max_attempts=2 one more failure fails the cell."""
    ex = Script(TransientError("boom"), TransientError("boom"))
    phases = spec_of(phase("a", ex, retry=RetryPolicy(max_attempts=2)))
    cells = {"0|a": CellRecord(state="running", attempts=2, failures=1)}
    brain = h.brain(phases, cells=cells)
    await h.run(brain)
    assert ex.contexts == [(3, False)]
    rec = await h.cell("0|a")
    assert (rec.state, rec.attempts, rec.failures) == ("failed", 3, 2)
    assert [(e.attempt, e.kind) for e in await h.events("phase_failed")] == [(3, "transient")]
    (started,) = await h.events("phase_started")
    assert (started.unit, started.phase, started.attempt) == ("u", "a", 3)


async def test_failures_are_recorded_on_the_cell_for_the_next_owner(h):
    """Each failure spends budget on the record itself (`f`), so a takeover keeps it."""
    ex = Script(TransientError("x"), TransientError("x"), {})
    phases = spec_of(phase("a", ex, retry=RetryPolicy(max_attempts=5)))
    await h.run(h.brain(phases))
    rec = await h.cell("0|a")
    assert (rec.state, rec.attempts, rec.failures) == ("succeeded", 3, 2)
    assert ex.contexts == [(1, True), (2, False), (3, False)]


async def test_a_cell_reset_for_a_retry_starts_afresh(h):
    """A record with no attempts or failures on it (a retry's reset) counts from zero."""
    ex = Script(TransientError("x"), {})
    phases = spec_of(phase("a", ex, retry=RetryPolicy(max_attempts=2)))
    await h.run(h.brain(phases, cells={"0|a": CellRecord(state="pending")}))
    assert ex.contexts == [(1, True), (2, False)]
    rec = await h.cell("0|a")
    assert (rec.state, rec.attempts, rec.failures) == ("succeeded", 2, 1)


def expected_delays(policy: RetryPolicy, ns: Sequence[int]) -> list[float]:
    """Full jitter from the brain's seeded rng: U(0, ceiling(n)) in order."""
    rng = random.Random(1)
    return [rng.uniform(0.0, policy.ceiling(n)) for n in ns]


async def test_rate_limits_spend_no_failures_and_back_off_by_their_own_count(h):
    """429s back off by how many came in a row (not by failures); a real error in
    between restarts that count, and spends one failure."""
    policy = RetryPolicy(max_attempts=2, base_delay=1.0, max_delay=1000.0)
    outcomes = [RateLimitedError("429"), RateLimitedError("429"), TransientError("x")]
    ex = Script(*outcomes, RateLimitedError("429"), {})
    phases = spec_of(phase("a", ex, retry=policy))
    await h.run(h.brain(phases))
    rec = await h.cell("0|a")
    assert (rec.state, rec.attempts, rec.failures) == ("succeeded", 5, 1)
    assert h.sleeps == expected_delays(policy, [1, 2, 1, 1])
    retrying = await h.events("phase_retrying")
    assert [(e.unit, e.phase, e.attempt, e.kind, e.error) for e in retrying] == [
        ("u", "a", 1, "rate_limited", "429"),
        ("u", "a", 2, "rate_limited", "429"),
        ("u", "a", 3, "transient", "x"),
        ("u", "a", 4, "rate_limited", "429"),
    ]
    assert [e.delay for e in retrying] == h.sleeps


async def test_a_retry_after_is_honoured(h):
    policy = RetryPolicy(base_delay=1.0, max_delay=1000.0)
    ex = Script(RateLimitedError("429", retry_after=7.0), {})
    await h.run(h.brain(spec_of(phase("a", ex, retry=policy))))
    assert h.sleeps == [7.0]


class Declared(PhaseError):
    """An executor's own error type, declared transient (no `retry_after` at all)."""

    transient = True


async def test_any_phase_error_declared_transient_is_retried(h):
    ex = Script(Declared("flaky"), {})
    await h.run(h.brain(spec_of(phase("a", ex))))
    assert ex.contexts == [(1, True), (2, False)]
    assert (await h.cell("0|a")).state == "succeeded"


class Now:
    """A clock the executor moves: each attempt happens at a time the test picks."""

    def __init__(self, *times: float) -> None:
        self.times = list(times)
        self.now = self.times[0]

    def __call__(self) -> float:
        return self.now

    async def attempt(self, _ctx: Any) -> None:
        self.now = self.times.pop(0)
        raise RateLimitedError("429")


async def test_rate_limiting_fails_a_cell_only_past_its_wall_clock_bound(h):
    """429s from t=100 on: retried while less than 10 s have passed (t=109), and the
    cell fails at t=110 with no failure spent."""
    now = Now(100.0, 105.0, 109.0, 110.0)
    h.clock = now
    ex = Script(now.attempt, now.attempt, now.attempt, now.attempt, {})
    policy = RetryPolicy(max_attempts=1, base_delay=0.0, max_delay=0.0, rate_limit_max_wait=10.0)
    await h.run(h.brain(spec_of(phase("a", ex, retry=policy))))
    rec = await h.cell("0|a")
    assert (rec.state, rec.attempts, rec.failures) == ("failed", 4, 0)
    assert [e.kind for e in await h.events("phase_failed")] == ["rate_limited"]


# -- success and failure records ------------------------------------------------


async def test_calls_are_prioritised_global_first_then_by_the_remaining_critical_path(h):
    seen: list[tuple[str | None, str, int]] = []

    async def note(ctx: Any) -> None:
        seen.append((ctx.unit_key, ctx.phase.id, CALL_PRIORITY.get()))

    phases = spec_of(
        phase("a", Script(note)),
        phase("b", Script(note), deps=("a",)),
        phase("g", Script(note), deps=("a",), per_unit=False),
    )
    await h.run(h.brain(phases, max_in_flight=1))
    # the global cell before the unit's next; a (more behind it) before b, both after g
    assert [(u, p) for u, p, _ in seen] == [("u", "a"), (None, "g"), ("u", "b")]
    (_, _, a), (_, _, g), (_, _, b) = seen
    assert g == GLOBAL_FIRST < a < b < 0


@pytest.mark.parametrize("a_fails", [False, True])
async def test_a_task_goes_on_with_the_best_ready_cell(h, a_fails):
    """With one slot, a global cell that became ready with the unit's next cell runs
    first (every unit may wait on it); also after a non-critical failure."""
    log: list = []
    first = Script(PermanentError("no") if a_fails else {}, log=log)
    phases = spec_of(
        phase("a", first, critical=False),
        phase("b", Script(log=log), deps=("a",)),
        phase("g", Script(log=log), deps=("a",), per_unit=False),
    )
    await h.run(h.brain(phases, max_in_flight=1))
    assert log == [("u", "a"), (None, "g"), ("u", "b")]


async def test_success_records_its_end_outputs_and_duration(h):
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    ex = Script({"when": when, "id": 7})
    phases = spec_of(phase("a", ex))
    await h.run(h.brain(phases))
    rec = await h.cell("0|a")
    assert rec.state == "succeeded"
    assert rec.ended_at is not None and rec.started_at is not None
    assert rec.ended_at > rec.started_at
    assert (await h.store.values(JOB))["0"] == {"when": str(when), "id": 7}
    (ok,) = await h.events("phase_succeeded")
    assert (ok.unit, ok.phase) == ("u", "a")
    assert ok.duration == rec.ended_at - rec.started_at


async def test_metrics_add_up_on_top_of_a_resumed_jobs(h, redis, prefix):
    """What executors count (`ctx.incr`) adds to what the job counted before."""

    async def count(ctx: Any) -> dict[str, Any]:
        ctx.incr("calls")
        ctx.incr("calls")
        ctx.incr("bytes", 2.5)
        return {}

    await h.run(h.brain(spec_of(phase("a", Script(count))), metrics={"calls": 10}))
    meta = await redis.hgetall(h.store.job(JOB).meta)
    assert json.loads(meta["metrics"]) == {"calls": 12, "bytes": 2.5}


async def test_failure_records_its_end_unit_and_criticality(h):
    ex_a = Script(PermanentError("no"))
    ex_b = Script(PermanentError("no"))
    phases = spec_of(phase("a", ex_a, critical=False), phase("b", ex_b, critical=True))
    await h.run(h.brain(phases))
    for field in ("0|a", "0|b"):
        rec = await h.cell(field)
        assert rec.state == "failed" and rec.error == "no"
        assert rec.ended_at is not None and rec.ended_at > rec.started_at
    failed = await h.events("phase_failed")
    assert [(e.unit, e.phase, e.critical, e.attempt, e.kind) for e in failed] == [
        ("u", "a", False, 1, "permanent"),
        ("u", "b", True, 1, "permanent"),
    ]


# -- the continuation of a stopped job -----------------------------------------


def broken(_opts: Any, _unit: Any) -> bool:
    raise ValueError("broken skip condition")


async def test_a_stop_while_claiming_the_next_cell_leaves_it_unstarted(h):
    """Phase a succeeds; b becomes this task's continuation, then c's broken skip
    condition fails the unit past max_failed_units=0: b must not start."""
    log: list = []
    phases = spec_of(
        phase("a", Script(log=log)),
        phase("b", Script(log=log), deps=("a",)),
        phase("c", Script(log=log), deps=("a",), skip_if=broken),
    )
    brain = h.brain(phases, max_failed_units=0)
    await h.run(brain)
    assert brain.stop_reason == "aborted"
    assert log == [("u", "a")]
    assert (await h.cell("0|b")).state == "cancelled"
    assert brain.phase_running == [0, 0, 0]  # every claim was given back
    assert brain.running == 0


# -- slots ---------------------------------------------------------------------


async def test_a_hard_cancel_during_backoff_gives_back_no_slot_it_does_not_hold(h):
    """In backoff the slot is let go; a hard cancel there must not release it again."""
    sleeping = anyio.Event()

    async def forever(_delay: float) -> None:
        sleeping.set()
        await anyio.sleep_forever()

    ex = Script(TransientError("x"))
    phases = spec_of(phase("a", ex))
    brain = h.brain(phases, sleep=forever, max_in_flight=1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(h.run, brain)
        with anyio.fail_after(20):
            await sleeping.wait()
        assert brain.slots.in_use == 0  # let go while waiting
        brain.request_cancel("hard")
    rec = await h.cell("0|a")
    assert (rec.state, rec.error, rec.outcome_unknown) == ("cancelled", "hard cancel", True)
    assert brain.slots.in_use == 0


async def test_a_hard_cancel_mid_call_leaves_the_outcome_unknown(h):
    calling = anyio.Event()

    async def hang(_ctx: Any) -> None:
        calling.set()
        await anyio.sleep_forever()

    brain = h.brain(spec_of(phase("a", Script(hang)), phase("b", Script(), deps=("a",))))
    async with anyio.create_task_group() as tg:
        tg.start_soon(h.run, brain)
        with anyio.fail_after(20):
            await calling.wait()
        brain.request_cancel("hard")
    rec = await h.cell("0|a")
    assert (rec.state, rec.error, rec.outcome_unknown) == ("cancelled", "hard cancel", True)
    (c,) = [e for e in await h.events("phase_cancelled") if e.phase == "a"]
    assert (c.unit, c.outcome_unknown) == ("u", True)


async def test_a_cancel_during_backoff_ends_the_cell_and_blocks_its_dependents(h):
    """A graceful cancel arriving while a cell backs off: it makes no further attempt."""
    brain: Brain | None = None

    async def cancel_meanwhile(_delay: float) -> None:
        assert brain is not None
        brain.request_cancel("graceful")
        await anyio.sleep(0)

    ex = Script(TransientError("x"), {})
    phases = spec_of(phase("a", ex), phase("b", Script(), deps=("a",)))
    brain = h.brain(phases, sleep=cancel_meanwhile)
    await h.run(brain)
    assert ex.contexts == [(1, True)]
    a, b = await h.cell("0|a"), await h.cell("0|b")
    assert (a.state, a.error, a.outcome_unknown) == ("cancelled", "job cancelled", False)
    assert (b.state, b.error) == ("blocked", "blocked by a")
    assert brain.phase_running == [0, 0] and brain.slots.in_use == 0


async def test_a_drain_during_backoff_leaves_the_cell_to_the_next_owner(h):
    """The worker drains while a cell backs off: no further attempt here, and the cell
    stays running (not cancelled, its dependents not blocked) for whoever resumes."""
    brain: Brain | None = None

    async def drain_meanwhile(_delay: float) -> None:
        assert brain is not None
        brain.stop("drained")
        await anyio.sleep(0)

    ex = Script(TransientError("x"), {})
    phases = spec_of(phase("a", ex), phase("b", Script(), deps=("a",)))
    brain = h.brain(phases, sleep=drain_meanwhile)
    await h.run(brain)
    assert ex.contexts == [(1, True)]
    a = await h.cell("0|a")
    assert (a.state, a.attempts, a.failures) == ("running", 1, 1)
    assert "0|b" not in await h.store.cells(JOB)  # never touched: pending
    assert await h.events("phase_cancelled") == [] and await h.events("phase_blocked") == []
    assert brain.phase_running == [0, 0] and brain.slots.in_use == 0


# -- activity waits ------------------------------------------------------------


class NeverDone:
    max_batch = 10

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
        return {}


async def test_an_activity_wait_honours_the_phases_timeout_and_names_the_unit(h):
    now = [0.0]
    backend = NeverDone()
    tracker = ActivityTracker(backend, timeout=600.0, clock=lambda: now[0])
    waiting = anyio.Event()

    async def wait(ctx: Any) -> dict[str, Any]:
        waiting.set()
        await ctx.wait_activity(backend, "act-1", timeout=5.0)
        return {}

    phases = spec_of(phase("a", Script(wait), retry=RetryPolicy(max_attempts=1)))
    brain = h.brain(phases, tracker_for=lambda _b: tracker)
    async with anyio.create_task_group() as tg:
        tg.start_soon(h.run, brain)
        with anyio.fail_after(20):
            await waiting.wait()
            while not tracker._waiters:
                await anyio.sleep(0)
        now[0] = 6.0  # past the phase's 5 s, long before the tracker's 600 s
        await tracker.poll_once()
    rec = await h.cell("0|a")
    assert rec.state == "failed"
    assert rec.error == "activity act-1 did not finish within 5s"
    (w,) = await h.events("phase_waiting")
    assert (w.unit, w.phase, w.activity) == ("u", "a", "act-1")


async def test_an_activity_wait_without_a_tracker_says_why(h, caplog):
    async def wait(ctx: Any) -> dict[str, Any]:
        await ctx.wait_activity(NeverDone(), "act-1", timeout=5.0)
        return {}

    phases = spec_of(phase("a", Script(wait), retry=RetryPolicy(max_attempts=1)))
    with caplog.at_level(logging.ERROR, logger="phasegrid.brain"):
        await h.run(h.brain(phases))
    rec = await h.cell("0|a")
    assert (rec.state, rec.error) == ("failed", "unexpected RuntimeError in phase a")
    assert [e.kind for e in await h.events("phase_failed")] == ["internal"]
    (logged,) = [r for r in caplog.records if r.name == "phasegrid.brain"]
    assert logged.getMessage() == "phase a raised"
    assert logged.exc_info is not None
    assert str(logged.exc_info[1]) == "this engine has no activity tracker"


class DoneAfter:
    """Activities finish at the given poll round (counted by the tracker's polls)."""

    max_batch = 10

    def __init__(self, rounds: dict[str, int]) -> None:
        self.rounds = rounds
        self.polls = 0
        self.asked: list[list[str]] = []

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
        self.polls += 1
        self.asked.append(sorted(ids))
        return {
            i: ActivityResult(id=i, status="SUCCESS")
            for i in ids
            if self.rounds.get(i, 0) <= self.polls
        }


async def test_several_activities_are_waited_for_together_in_the_order_asked(h):
    backend = DoneAfter({"b": 1, "a": 2, "c": 2})
    tracker = ActivityTracker(backend, timeout=600.0)
    got: list[list[str]] = []

    async def wait(ctx: Any) -> dict[str, Any]:
        results = await ctx.wait_activities(backend, ["a", "b", "c"])
        got.append([r.id for r in results])
        return {}

    phases = spec_of(phase("a", Script(wait)))
    brain = h.brain(phases, tracker_for=lambda _b: tracker)
    async with anyio.create_task_group() as tg:
        tg.start_soon(h.run, brain)
        with anyio.fail_after(20):
            while len(tracker._waiters) < 3:
                await anyio.sleep(0)
            assert brain.slots.in_use == 0  # the slot was let go while waiting
            await tracker.poll_once()
            await tracker.poll_once()
    assert got == [["a", "b", "c"]]
    assert backend.asked[0] == ["a", "b", "c"]  # one poll saw all three
    assert (await h.cell("0|a")).state == "succeeded"
    assert [w.activity for w in await h.events("phase_waiting")] == ["a", "b", "c"]


async def test_a_timeout_among_several_waits_fails_the_cell_as_itself(h):
    now = [0.0]
    backend = NeverDone()
    tracker = ActivityTracker(backend, timeout=600.0, clock=lambda: now[0])

    async def wait(ctx: Any) -> dict[str, Any]:
        await ctx.wait_activities(backend, ["x", "y"], timeout=5.0)
        return {}

    phases = spec_of(phase("a", Script(wait), retry=RetryPolicy(max_attempts=1)))
    brain = h.brain(phases, tracker_for=lambda _b: tracker)
    async with anyio.create_task_group() as tg:
        tg.start_soon(h.run, brain)
        with anyio.fail_after(20):
            while len(tracker._waiters) < 2:
                await anyio.sleep(0)
        now[0] = 6.0
        await tracker.poll_once()
    rec = await h.cell("0|a")
    assert rec.state == "failed"
    assert rec.error is not None and rec.error.endswith("did not finish within 5s")
