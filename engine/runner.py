"""Running one cell: attempts, retries with backoff, activity waits.

A task holds one in-flight slot while it makes calls and lets it go while it
waits (on an activity or a backoff), so waiting never starves the job. When a
cell ends, the same task goes on with the unit's next ready cell
(depth-first), keeping its slot: no queueing, no new task.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio

from engine.activities import ActivityBackend, ActivityResult
from engine.cellbook import cell_field
from engine.context import PhaseContext
from engine.errors import PhaseError, RateLimitedError
from engine.events import PhaseFailed, PhaseRetrying, PhaseStarted, PhaseSucceeded, PhaseWaiting
from engine.limits import CALL_PRIORITY
from engine.models import Attempt
from engine.retry import DEFAULT_RETRY, backoff_delay
from engine.states import FAILED, RUNNING, SUCCEEDED, WAITING

log = logging.getLogger("phasegrid.brain")
GLOBAL_FIRST = -(1 << 30)
"""Priority of global cells: everything of every unit may wait on them."""


class Slot:
    """One task's claim on the global in-flight limit (let go while waiting)."""

    __slots__ = ("held", "token")

    def __init__(self, token: object) -> None:
        self.token = token
        self.held = True


class CellRunner:
    """Mixin of `Brain` (scheduling), whose fields it uses."""

    phases: list[Any]
    pindex: dict[str, int]
    critical: list[bool]
    global_row: int
    records: list[list[dict[str, Any] | None]]
    values: list[dict[str, Any]]
    attempt_log: dict[tuple[int, int], list[dict[str, Any]]]
    done_per_row: list[int]
    phase_running: list[int]
    running: int
    stop_reason: str | None
    hard: bool
    rng: Any
    sleep: Any
    clock: Any
    journal: Any
    job_id: str
    tracker_for: Any
    max_in_flight_seen: int
    _slots: anyio.CapacityLimiter
    _changed: anyio.Event
    _continue_row: int | None
    _continuation: int | None

    # -- one cell -------------------------------------------------------------

    async def _run_cell(self, row: int, p: int, token: object) -> None:
        """Run a cell, then any of the same unit's cells it made ready (depth-first)."""
        slot = Slot(token)
        next_p: int | None = p
        try:
            while next_p is not None:
                if next_p != p and self.stop_reason is not None:
                    self.phase_running[next_p] -= 1  # claimed, never started: stays pending
                    break
                p = next_p
                next_p = await self._run_one(row, p, slot)
        finally:
            if slot.held:
                self._slots.release_on_behalf_of(token)
            self.running -= 1
            self._changed.set()

    async def _run_one(self, row: int, p: int, slot: Slot) -> int | None:
        """One cell with its retries; returns the continuation phase, if any.

        The slot is held on entry and on return; it is let go while waiting
        on activities and backoff.
        """
        spec = self.phases[p]
        rec = self.records[row][p]
        # `attempt` numbers starts (shown to operators); `failures` is the retry
        # budget spent: a resume after a crash and a 429 spend none of it
        attempt = rec.get("a", 0) if rec else 0
        failures = rec.get("f", 0) if rec else 0
        first_try = attempt == 0
        limited_since: float | None = None
        limited_in_a_row = 0
        first_start: float | None = None
        ctx: PhaseContext | None = None
        policy = spec.retry or DEFAULT_RETRY
        try:
            while True:
                attempt += 1
                now = self.clock()
                first_start = first_start or now
                self._set(row, p, RUNNING, attempts=attempt, started=first_start)
                self.journal.event(
                    PhaseStarted(
                        ts=now,
                        job_id=self.job_id,
                        unit=self._key(row),
                        phase=spec.id,
                        attempt=attempt,
                    )
                )
                ctx = PhaseContext(self, row, p, attempt, slot, first_try=first_try)
                first_try = False
                CALL_PRIORITY.set(
                    GLOBAL_FIRST if row == self.global_row else -self.done_per_row[row]
                )
                try:
                    outputs = await spec.executor.run(ctx)
                except PhaseError as exc:
                    err: PhaseError = exc
                except Exception as exc:
                    log.exception("phase %s raised", spec.id)
                    err = PhaseError(f"unexpected {type(exc).__name__} in phase {spec.id}")
                    err.kind = "internal"
                else:
                    return self._settle(row, partial(self._succeed, row, p, outputs, first_start))
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
                if not can_retry or self.stop_reason is not None:
                    self._log_attempt(row, p, attempt, err, None)
                    return self._settle(
                        row, partial(self._fail, row, p, str(err), err.kind, attempt)
                    )
                delay = backoff_delay(
                    policy, backoff_n, self.rng, getattr(err, "retry_after", None)
                )
                self._log_attempt(row, p, attempt, err, delay)
                self.journal.event(
                    PhaseRetrying(
                        ts=self.clock(),
                        job_id=self.job_id,
                        unit=self._key(row),
                        phase=spec.id,
                        attempt=attempt,
                        error=str(err),
                        kind=err.kind,
                        delay=delay,
                    )
                )
                self._release(slot)
                await self.sleep(delay)
                await self._slots.acquire_on_behalf_of(slot.token)
                slot.held = True
                if self.stop_reason is not None:
                    self._cancel_cell(row, p, f"job {self.stop_reason}")
                    return self._settle(row, partial(self._propagate, row, p))
        except anyio.get_cancelled_exc_class():
            if not self.hard:  # process shutdown, not a cancel: leave it to resume
                raise
            self._cancel_cell(row, p, "hard cancel", outcome_unknown=True)
            raise
        finally:
            self.phase_running[p] -= 1

    def _settle(self, row: int, action: Callable[[], None]) -> int | None:
        """Record the cell's end; claim the unit's next ready cell for this task."""
        self._continue_row, self._continuation = row, None
        try:
            action()
        finally:
            self._continue_row = None
        nxt, self._continuation = self._continuation, None
        return nxt

    def _count_failure(self, row: int, p: int, failures: int) -> None:
        rec = self.records[row][p]
        if rec is not None:
            rec["f"] = failures

    def _release(self, slot: Slot) -> None:
        if slot.held:
            self._slots.release_on_behalf_of(slot.token)
            slot.held = False
            self._changed.set()

    def _succeed(self, row: int, p: int, outputs: dict[str, Any] | None, started: float) -> None:
        now = self.clock()
        if outputs:
            self.values[row].update(outputs)
            self.journal.value(self._rowname(row), json.dumps(self.values[row], default=str))
        self._set(row, p, SUCCEEDED, ended=now)
        self.journal.event(
            PhaseSucceeded(
                ts=now,
                job_id=self.job_id,
                unit=self._key(row),
                phase=self.phases[p].id,
                duration=now - started,
            )
        )
        self._propagate(row, p)

    def _fail(
        self, row: int, p: int, message: str, kind: str, attempt: int, *, propagate: bool = True
    ) -> None:
        now = self.clock()
        self._set(row, p, FAILED, ended=now, error=message)
        self.journal.event(
            PhaseFailed(
                ts=now,
                job_id=self.job_id,
                unit=self._key(row),
                phase=self.phases[p].id,
                error=message,
                kind=kind,
                attempt=attempt,
                critical=self.critical[p],
            )
        )
        if propagate:
            self._propagate(row, p)

    def _log_attempt(self, row: int, p: int, n: int, err: PhaseError, delay: float | None) -> None:
        items = self.attempt_log.setdefault((row, p), [])
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
            cell_field(self._rowname(row), self.phases[p].id), json.dumps(items)
        )

    # -- services for executors ----------------------------------------------

    async def wait_activity(
        self, ctx: PhaseContext, backend: ActivityBackend, activity_id: str, timeout: float | None
    ) -> ActivityResult:
        if self.tracker_for is None:
            raise RuntimeError("this engine has no activity tracker")
        tracker = self.tracker_for(backend)
        row = ctx.unit_index if ctx.unit_index is not None else self.global_row
        p = self.pindex[ctx.phase.id]
        self._set(row, p, WAITING)
        self.journal.event(
            PhaseWaiting(
                ts=self.clock(),
                job_id=self.job_id,
                unit=ctx.unit_key,
                phase=ctx.phase.id,
                activity=activity_id,
            )
        )
        self._release(ctx.slot)
        try:
            return await tracker.wait(activity_id, timeout)
        finally:
            await self._slots.acquire_on_behalf_of(ctx.slot.token)
            ctx.slot.held = True
            self.max_in_flight_seen = max(self.max_in_flight_seen, int(self._slots.borrowed_tokens))
            self._set(row, p, RUNNING)
