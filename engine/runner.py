"""Running one cell: attempts, retries with backoff, activity waits.

The runner holds the cell's in-flight slot while an attempt makes calls and lets
it go while it waits (on an activity or a backoff). It records how the cell
ended in the cell book; the scheduler then settles the cell's dependents. It is
also what an attempt's `PhaseContext` reaches the engine through
(`CellServices`): activity waits, the ledger, logs and metrics.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import anyio

from engine.activities import ActivityBackend, ActivityResult, ActivityTracker
from engine.cell_plans import CellPlans
from engine.cellbook import CellBook
from engine.context import PhaseContext
from engine.critical_path import GLOBAL_FIRST
from engine.errors import PhaseError, RateLimitedError
from engine.events import (
    Event,
    PhaseFailed,
    PhaseRetrying,
    PhaseStarted,
    PhaseSucceeded,
    PhaseWaiting,
)
from engine.inflight import InFlight, Slot
from engine.keys import cell_field
from engine.limits import CALL_PRIORITY
from engine.models import Attempt, LedgerEntry
from engine.retry import DEFAULT_RETRY, backoff_delay
from engine.states import FAILED, RUNNING, SUCCEEDED, WAITING

log = logging.getLogger("phasegrid.brain")
__all__ = ["GLOBAL_FIRST", "CellRunner", "JobStop"]


class JobStop(Protocol):
    """What the runner reads of the scheduler: whether, and how, the job is stopping."""

    @property
    def stop_reason(self) -> str | None: ...

    @property
    def hard(self) -> bool: ...


class CellRunner:
    def __init__(
        self,
        *,
        book: CellBook,
        job: JobStop,
        slots: InFlight,
        units: Sequence[Any],
        options: Any,
        resources: Mapping[str, Any],
        tracker_for: Callable[[ActivityBackend], ActivityTracker] | None,
        clock: Callable[[], float],
        sleep: Callable[[float], Any],
        rng: random.Random,
        plans: CellPlans | None = None,
        priority: Callable[[int, int], int] | None = None,
    ) -> None:
        """`priority`: the `CALL_PRIORITY` of a cell's calls (the brain's critical path)."""
        self.book = book
        self.priority = priority or (lambda row, _p: GLOBAL_FIRST if row == book.global_row else 0)
        self.plans = plans or CellPlans()
        self.journal = book.journal
        self.job_id = book.job_id
        self.job = job
        self.slots = slots
        self.units = units
        self.options = options
        self.resources = resources
        self.tracker_for = tracker_for
        self.clock = clock
        self.sleep = sleep
        self.rng = rng

    # -- one cell -------------------------------------------------------------

    async def run(self, row: int, p: int, slot: Slot) -> bool:
        """One cell with its retries, until it has ended (True: the scheduler then
        settles its dependents) or is left running for the job's next owner (False: a
        drain); a hard cancel or a shutdown raises instead.

        The slot is held on entry and on return; it is let go while waiting on
        activities and backoff.
        """
        book = self.book
        spec = book.phases[p]
        rec = book.records[row][p]
        # `attempt` numbers starts (shown to operators); `failures` is the retry
        # budget spent: a resume after a crash and a 429 spend none of it
        attempt = rec.get("a", 0) if rec else 0
        failures = rec.get("f", 0) if rec else 0
        first_try = attempt == 0 and not self.plans.resumed
        limited_since: float | None = None
        limited_in_a_row = 0
        first_start: float | None = None
        policy = spec.retry or DEFAULT_RETRY
        unit = self.units[row] if spec.per_unit else None
        try:
            while True:
                attempt += 1
                now = self.clock()
                first_start = first_start or now
                book.set_state(row, p, RUNNING, attempts=attempt, started=first_start)
                self.journal.event(
                    PhaseStarted(
                        ts=now,
                        job_id=self.job_id,
                        unit=book.key(row),
                        phase=spec.id,
                        attempt=attempt,
                    )
                )
                ctx = PhaseContext(
                    self, spec, (row, p), attempt, slot,
                    unit_key=book.key(row), unit=unit, first_try=first_try,
                    plan=self.plans.get(row if spec.per_unit else None, spec.id),
                )  # fmt: skip
                first_try = False
                CALL_PRIORITY.set(self.priority(row, p))
                try:
                    outputs = await spec.executor.run(ctx)
                except PhaseError as exc:
                    err: PhaseError = exc
                except Exception as exc:
                    log.exception("phase %s raised", spec.id)
                    err = PhaseError(f"unexpected {type(exc).__name__} in phase {spec.id}")
                    err.kind = "internal"
                else:
                    self._succeed(row, p, outputs, first_start)
                    return True
                if isinstance(err, RateLimitedError):
                    limited_since = limited_since if limited_since is not None else now
                    limited_in_a_row += 1
                    can_retry = self.clock() - limited_since < policy.rate_limit_max_wait
                    backoff_n = limited_in_a_row
                else:
                    limited_since, limited_in_a_row = None, 0
                    failures += 1
                    self._count_failure(row, p, failures)
                    can_retry = err.transient and failures < policy.max_attempts
                    backoff_n = failures
                if can_retry and self.job.stop_reason == "drained":
                    return False  # left running: the job's next owner retries it
                if can_retry and self.job.stop_reason == "paused":
                    book.cancel(row, p, "job paused")  # resuming runs it again
                    return True
                if not can_retry or self.job.stop_reason is not None:
                    self._log_attempt(row, p, attempt, err, None)
                    self.fail(row, p, str(err), err.kind, attempt)
                    return True
                delay = backoff_delay(
                    policy, backoff_n, self.rng, getattr(err, "retry_after", None)
                )
                self._log_attempt(row, p, attempt, err, delay)
                self.journal.event(
                    PhaseRetrying(
                        ts=self.clock(),
                        job_id=self.job_id,
                        unit=book.key(row),
                        phase=spec.id,
                        attempt=attempt,
                        error=str(err),
                        kind=err.kind,
                        delay=delay,
                    )
                )
                self.slots.release(slot)
                await self.sleep(delay)
                await self.slots.retake(slot)
                if self.job.stop_reason == "drained":
                    return False  # left running: the job's next owner retries it
                if self.job.stop_reason is not None:
                    book.cancel(row, p, f"job {self.job.stop_reason}")
                    return True
        except anyio.get_cancelled_exc_class():
            if not self.job.hard:  # process shutdown, not a cancel: leave it to resume
                raise
            book.cancel(row, p, "hard cancel", outcome_unknown=True)
            raise

    def _count_failure(self, row: int, p: int, failures: int) -> None:
        rec = self.book.records[row][p]
        if rec is not None:
            rec["f"] = failures

    def _succeed(self, row: int, p: int, outputs: dict[str, Any] | None, started: float) -> None:
        now = self.clock()
        book = self.book
        if outputs:
            book.values[row].update(outputs)
            self.journal.value(book.rowname(row), json.dumps(book.values[row], default=str))
        book.set_state(row, p, SUCCEEDED, ended=now)
        self.journal.event(
            PhaseSucceeded(
                ts=now,
                job_id=self.job_id,
                unit=book.key(row),
                phase=book.phases[p].id,
                duration=now - started,
            )
        )

    def fail(self, row: int, p: int, message: str, kind: str, attempt: int) -> None:
        """Record the cell as failed (its dependents are the scheduler's business)."""
        now = self.clock()
        book = self.book
        book.set_state(row, p, FAILED, ended=now, error=message)
        self.journal.event(
            PhaseFailed(
                ts=now,
                job_id=self.job_id,
                unit=book.key(row),
                phase=book.phases[p].id,
                error=message,
                kind=kind,
                attempt=attempt,
                critical=book.phases[p].critical,
            )
        )

    def _log_attempt(self, row: int, p: int, n: int, err: PhaseError, delay: float | None) -> None:
        items = self.book.attempt_log.setdefault((row, p), [])
        items.append(
            Attempt(
                n=n,
                error=str(err),
                kind=err.kind,
                transient=err.transient,
                delay=delay,
                at=self.clock(),
            ).model_dump()
        )
        self.journal.attempt_log(
            cell_field(self.book.rowname(row), self.book.phases[p].id), json.dumps(items)
        )

    # -- CellServices: what an attempt's PhaseContext may use ---------------------

    def now(self) -> float:
        return self.clock()

    def values_of(self, row: int | None) -> dict[str, Any]:
        merged = dict(self.book.values[self.book.global_row])
        if row is not None:
            merged.update(self.book.values[row])
        return merged

    def emit(self, event: Event) -> None:
        self.journal.event(event)

    def next_ledger_seq(self) -> int:
        self.book.ledger_seq += 1
        return self.book.ledger_seq

    def write_ledger(self, entry: LedgerEntry) -> None:
        self.journal.ledger_entry(entry.model_dump_json())

    def incr(self, metric: str, n: float) -> None:
        metrics = self.book.metrics
        metrics[metric] = metrics.get(metric, 0) + n

    async def wait_activity(
        self,
        cell: tuple[int, int],
        slot: Slot,
        backend: ActivityBackend,
        activity_id: str,
        timeout: float | None,
    ) -> ActivityResult:
        return (await self.wait_activities(cell, slot, backend, [activity_id], timeout))[0]

    async def wait_activities(
        self,
        cell: tuple[int, int],
        slot: Slot,
        backend: ActivityBackend,
        activity_ids: Sequence[str],
        timeout: float | None,
    ) -> list[ActivityResult]:
        """Show the cell waiting, let its slot go once, wait for every activity
        together (one poller round sees them all), then take the slot back."""
        if self.tracker_for is None:
            raise RuntimeError("this engine has no activity tracker")
        tracker = self.tracker_for(backend)
        row, p = cell
        book = self.book
        book.set_state(row, p, WAITING)
        for activity_id in activity_ids:
            self.journal.event(
                PhaseWaiting(
                    ts=self.clock(),
                    job_id=self.job_id,
                    unit=book.key(row),
                    phase=book.phases[p].id,
                    activity=activity_id,
                )
            )
        self.slots.release(slot)
        try:
            if len(activity_ids) == 1:
                return [await tracker.wait(activity_ids[0], timeout)]
            results: list[ActivityResult | None] = [None] * len(activity_ids)
            errors: list[Exception] = []

            async def one(i: int, activity_id: str) -> None:
                try:  # a timeout reaches the phase as itself, not in an ExceptionGroup
                    results[i] = await tracker.wait(activity_id, timeout)
                except Exception as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as tg:
                for i, activity_id in enumerate(activity_ids):
                    tg.start_soon(one, i, activity_id)
            if errors:
                raise errors[0]
            return [r for r in results if r is not None]
        finally:
            await self.slots.retake(slot)
            book.set_state(row, p, RUNNING)
