"""The brain: schedules one job's cells, each the moment its own dependencies are done.

There is no polling loop and no stage barrier. Every cell keeps a count of
unfinished dependencies; when a cell finishes, exactly its dependents are
decremented and those reaching zero become ready. A dispatcher starts ready
cells by their remaining critical path (`engine.critical_path`: global cells, then
the most work still behind a cell, then the earlier unit) within the global
in-flight limit and the per-phase limits; a task that finishes a cell keeps its
slot for the best ready cell (often the same unit's next one). Blocking propagates down a unit's
own pipeline only, so one failed unit never holds up another.

The brain owns its parts: the cell book (what every cell is), the cell runner
(one cell's attempts) and the in-flight limit; it alone decides what runs next.
"""

from __future__ import annotations

import heapq
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio

from engine.activities import ActivityBackend, ActivityTracker
from engine.cell_plans import CellPlans
from engine.cellbook import CellBook
from engine.critical_path import CriticalPath
from engine.events import PhaseSkipped
from engine.inflight import InFlight, Slot
from engine.journal import Journal
from engine.models import Attempt, CellRecord
from engine.runner import CellRunner
from engine.spec import PhaseSpec
from engine.states import BLOCKED, CANCELLED, FAILED, PENDING, SKIPPED, SUCCEEDED, TERMINAL

log = logging.getLogger("phasegrid.brain")


class Brain:
    """Runs one job to a resting state (terminal, or paused)."""

    # pragma: no mutate start (scheduling: pinned by the property-based termination test
    # and the engine tests; mutmut mutates the task loop, `_run_cell` and `_settle`)
    def __init__(
        self,
        *,
        job_id: str,
        phases: Sequence[PhaseSpec],
        unit_keys: Sequence[str],
        units: Sequence[Any],
        options: Any,
        journal_factory: Callable[[Brain], Journal],
        cells: Mapping[str, CellRecord] | None = None,
        values: Mapping[str, dict[str, Any]] | None = None,
        attempts: Mapping[str, list[Attempt]] | None = None,
        resources: Mapping[str, Any] | None = None,
        tracker_for: Callable[[ActivityBackend], ActivityTracker] | None = None,
        max_in_flight: int = 64,
        max_failed_units: int | None = None,
        on_max_failed: str = "abort",
        clock: Callable[[], float],
        sleep: Callable[[float], Any] = anyio.sleep,
        rng: random.Random | None = None,
        ledger_seq: int = 0,
        metrics: Mapping[str, float] | None = None,
        slots: anyio.CapacityLimiter | None = None,
        plans: CellPlans | None = None,
        held: frozenset[int] = frozenset(),
    ) -> None:
        """`slots`: an in-flight limit shared with other jobs (a worker's), else
        one of `max_in_flight` for this job alone. `held`: rows outside the job's
        first wave (`engine.waves`): none of their cells starts in this run."""
        self.job_id = job_id
        self.held = held
        self.phases = list(phases)
        self.units = list(units)
        self.options = options
        self.clock = clock
        self.max_failed_units = max_failed_units
        self.on_max_failed = on_max_failed

        P = len(self.phases)
        self.per_unit = [p.per_unit for p in self.phases]
        self.critical = [p.critical for p in self.phases]
        pindex = {p.id: i for i, p in enumerate(self.phases)}
        self.deps = [[pindex[d] for d in p.depends_on] for p in self.phases]
        self.children: list[list[int]] = [[] for _ in range(P)]
        for i, ds in enumerate(self.deps):
            for d in ds:
                self.children[d].append(i)
        self.limits = [p.concurrency for p in self.phases]

        self.heaps: list[list[tuple[int, int, int]]] = [[] for _ in range(P)]
        """Ready cells per phase, keyed by `CriticalPath.key` (lower first)."""
        self.phase_running = [0] * P
        self.running = 0
        self._changed = anyio.Event()
        self.slots = InFlight(max_in_flight, self._wake, shared=slots)
        self.stop_reason: str | None = None
        """None while running; 'cancelled', 'failed', 'aborted', 'paused', 'wave' (the
        first wave is done), 'fenced', or 'drained' (the worker stops: no new cell;
        any other reason overrides it)."""
        self.hard = False
        self.error: str | None = None
        self._work_scope: anyio.CancelScope | None = None

        self.journal = journal_factory(self)
        self.book = CellBook(
            job_id=job_id,
            phases=self.phases,
            unit_keys=unit_keys,
            journal=self.journal,
            clock=clock,
            on_unit_failed=self._check_failed_units,
            metrics=metrics,
            ledger_seq=ledger_seq,
        )
        self.n, self.global_row = self.book.n, self.book.global_row
        self.remaining = [[0] * P for _ in range(self.n + 1)]
        """Per cell: dependencies not settled yet."""
        self.path = CriticalPath(
            deps=self.deps, children=self.children, per_unit=self.per_unit,
            phase_ids=[q.id for q in phases], n=self.n, plans=plans or CellPlans(),
        )  # fmt: skip
        self.runner = CellRunner(
            book=self.book,
            job=self,
            slots=self.slots,
            units=self.units,
            options=options,
            resources=resources or {},
            tracker_for=tracker_for,
            clock=clock,
            sleep=sleep,
            rng=rng or random.Random(),
            plans=plans,
            priority=self.path.call_priority,
        )
        self._loading = True  # failures already on record do not re-trigger max_failed_units
        self.book.load(cells or {}, values or {}, attempts or {})
        self._count_dependencies()
        self._loading = False

    def snapshot(self) -> tuple[dict[str, int], dict[str, Any]]:
        """What the journal writes with every batch (counts and counters)."""
        return self.book.snapshot()

    def _wake(self) -> None:
        self._changed.set()

    def _check_failed_units(self) -> None:
        limit = self.max_failed_units
        failed = self.book.failed_units
        stopped = self.stop_reason not in (None, "drained")
        if limit is None or self._loading or stopped or failed <= limit:
            return
        self.error = f"{failed} units failed (max_failed_units={limit})"
        self.stop("paused" if self.on_max_failed == "pause" else "aborted")

    # -- readiness and propagation -------------------------------------------

    def _ok(self, p: int, s: int) -> bool:
        """Does a dependency on phase `p` in state `s` let its dependents run?"""
        return s in (SUCCEEDED, SKIPPED) or (s == FAILED and not self.critical[p])

    def _count_dependencies(self) -> None:
        """Dependency counters of the loaded cells, in topological order so that
        loaded blocks propagate; then make the cells with none left ready."""
        state, book = self.book.state, self.book
        for p in range(len(self.phases)):
            for row in book.rows(p):
                if state[row][p] != PENDING:
                    continue
                blocked_by = None
                remaining = 0
                for d in self.deps[p]:
                    if not self.per_unit[p] and self.per_unit[d]:  # global after per-unit
                        remaining += sum(1 for r in range(self.n) if state[r][d] not in TERMINAL)
                        continue
                    s = state[row if self.per_unit[d] else self.global_row][d]
                    if s not in TERMINAL:
                        remaining += 1
                    elif not self._ok(d, s):
                        blocked_by = self.phases[d].id
                if blocked_by is not None:
                    book.block(row, p, blocked_by, f"blocked by {blocked_by}")
                else:
                    self.remaining[row][p] = remaining
        ready = [
            (row, p)
            for p in range(len(self.phases))
            for row in book.rows(p)
            if state[row][p] == PENDING and self.remaining[row][p] == 0
        ]
        for row, p in ready:
            if state[row][p] == PENDING:
                self._make_ready(row, p)

    def _make_ready(self, row: int, p: int) -> None:
        """A cell's dependencies are all done: skip it, or queue it to run."""
        work: list[tuple[int, int]] = []
        self._ready_or_queue(row, p, work)
        for r, q in work:
            self._propagate(r, q)
        self._changed.set()

    def _propagate(self, row: int, p: int) -> None:
        """Cell (row, p) reached a terminal state: release or block its dependents."""
        state = self.book.state
        work = [(row, p)]
        while work:
            r, q = work.pop()
            ok = self._ok(q, state[r][q])
            if not self.per_unit[q] and not ok and self.critical[q]:
                self._global_failed(q)
            for c in self.children[q]:
                if self.per_unit[c]:
                    for t in (r,) if self.per_unit[q] else range(self.n):
                        self._release_dependent(t, c, q, ok, work)
                else:  # a global phase waits for every unit's cell, whatever its outcome
                    self._release_dependent(self.global_row, c, q, ok or self.per_unit[q], work)
        self._changed.set()

    def _release_dependent(
        self, t: int, c: int, q: int, ok: bool, work: list[tuple[int, int]]
    ) -> None:
        """Dependency q of cell (t, c) is settled: count it down, or block the cell."""
        if self.book.state[t][c] != PENDING:
            return
        if ok:
            self.remaining[t][c] -= 1
            if self.remaining[t][c] == 0:
                self._ready_or_queue(t, c, work)
        else:
            by = self.phases[q].id
            self.book.block(t, c, by, f"blocked by {by}")
            work.append((t, c))

    def _ready_or_queue(self, row: int, p: int, work: list[tuple[int, int]]) -> None:
        """Queue a ready cell, or settle it now (skipped) and add it to `work`."""
        if row in self.held:
            return  # outside the first wave: pending until the wave is approved
        spec = self.phases[p]
        if spec.skip_if is not None:
            unit = self.units[row] if row != self.global_row else None
            try:
                skip = bool(spec.skip_if(self.options, unit))
            except Exception as exc:  # a broken condition fails the cell, not the job
                why = f"skip condition raised {type(exc).__name__}"
                self.runner.fail(row, p, why, "internal", 0)
                work.append((row, p))
                return
            if skip:
                self.book.set_state(row, p, SKIPPED, ended=self.clock())
                self.journal.event(
                    PhaseSkipped(ts=self.clock(), job_id=self.job_id, unit=self.book.key(row),
                                 phase=spec.id)
                )  # fmt: skip
                work.append((row, p))
                return
        heapq.heappush(self.heaps[p], self.path.key(row, p))

    def _global_failed(self, p: int) -> None:
        if self.stop_reason in (None, "drained"):
            self.error = f"critical global phase {self.phases[p].id!r} failed"
            self.stop("failed")

    # -- stopping -------------------------------------------------------------

    def stop(self, reason: str, *, hard: bool = False) -> None:
        """Start nothing new; with `hard`, cancel in-flight work now."""
        current = self.stop_reason
        if current in (None, "drained") or (reason == "cancelled" and current != "cancelled"):
            self.stop_reason = reason
        if hard:
            self.hard = True
            if self._work_scope is not None:
                self._work_scope.cancel()
        self._changed.set()

    def request_cancel(self, mode: str) -> None:
        self.stop("cancelled", hard=(mode == "hard"))

    # -- the dispatcher -------------------------------------------------------

    def _pick(self) -> int | None:
        best: tuple[int, int, int] | None = None
        best_p: int | None = None
        for p, heap in enumerate(self.heaps):
            if not heap:
                continue
            limit = self.limits[p]
            if limit is not None and self.phase_running[p] >= limit:
                continue
            if best is None or heap[0] < best:
                best, best_p = heap[0], p
        return best_p

    async def run(self) -> None:
        """Run until every cell is terminal or the job is stopped."""
        async with anyio.create_task_group() as outer:
            outer.start_soon(self.journal.run)
            try:
                with anyio.CancelScope() as scope:
                    self._work_scope = scope
                    if self.hard:
                        scope.cancel()
                    async with anyio.create_task_group() as tg:
                        await self._dispatch(tg)
                if self.held and self.stop_reason is None:
                    self.stop("wave")  # the rest waits for the operator's approval
                self._finalize_cells()
            finally:
                # also on shutdown: land what is buffered; running cells stay
                # "running" in Redis and are re-run by whoever resumes the job
                with anyio.CancelScope(shield=True):
                    await self.journal.close()
                outer.cancel_scope.cancel()

    async def _dispatch(self, tg: Any) -> None:
        while True:
            if self.stop_reason is not None:
                return
            p = self._pick()
            if p is None:
                if self.running == 0:
                    return
                await self._changed.wait()
                self._changed = anyio.Event()
                continue
            slot = await self.slots.take()
            p = self._pick()
            if p is None or self.stop_reason is not None:
                self.slots.release(slot)
                continue
            row = heapq.heappop(self.heaps[p])[-1]
            self.phase_running[p] += 1
            self.running += 1
            tg.start_soon(self._run_cell, row, p, slot)

    # pragma: no mutate end
    async def _run_cell(self, row: int, p: int, slot: Slot) -> None:
        """Run a cell, then, keeping the slot, the best ready cell (`_settle`)."""
        nxt: tuple[int, int] | None = (row, p)
        try:
            while nxt is not None:
                if nxt != (row, p):  # cells dispatched before this one start before it
                    await anyio.lowlevel.checkpoint()
                if self.stop_reason is not None:  # stopped before it started: stays pending
                    self.phase_running[nxt[1]] -= 1
                    break
                row, p = nxt
                try:
                    ended = await self.runner.run(row, p, slot)
                    nxt = self._settle(row, p) if ended else None
                finally:
                    self.phase_running[p] -= 1
        finally:
            self.slots.release(slot)
            self.running -= 1
            self._changed.set()

    def _settle(self, row: int, p: int) -> tuple[int, int] | None:
        """The cell ended: settle its dependents, then claim the best ready cell for
        this task (returned), keeping its slot: the unit's next cell when nothing
        queued outranks it (depth-first, no new task), else what does."""
        self._propagate(row, p)
        q = self._pick() if self.stop_reason is None else None
        if q is None:
            return None
        nrow = heapq.heappop(self.heaps[q])[-1]
        self.phase_running[q] += 1
        return nrow, q

    # pragma: no mutate start (finalizing: see above)
    def _finalize_cells(self) -> None:
        """Whatever never ran when the job stopped is cancelled (or blocked)."""
        code = BLOCKED if self.stop_reason == "failed" else CANCELLED
        if self.stop_reason in ("paused", "wave", "fenced", "drained"):
            return
        book = self.book
        for p in range(len(self.phases)):
            for row in book.rows(p):
                if book.state[row][p] in TERMINAL:
                    continue
                if self.stop_reason is None:  # cannot happen in a valid DAG: never hang
                    book.set_state(row, p, BLOCKED, error="unreachable (engine invariant)")
                    log.error("cell %s|%s unreachable", row, self.phases[p].id)
                elif code == CANCELLED:
                    why = f"job {self.stop_reason}"
                    book.cancel(row, p, why, outcome_unknown=(row, p) in book.interrupted)
                else:
                    book.block(row, p, f"job {self.stop_reason}", f"job {self.stop_reason}")

    # pragma: no mutate end
