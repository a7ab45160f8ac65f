"""The cell book: the state of every (unit, phase) cell of one running job.

States are small ints in per-row bytearrays (the hot path). The book keeps the
counts per phase and per unit, each unit's roll-up, each cell's attempt log and
the job's counters (metrics, ledger sequence), and writes every change to the
journal. It decides nothing: the scheduler (`engine.brain`) owns it and tells it
what happened.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.events import PhaseBlocked, PhaseCancelled
from engine.journal import Journal
from engine.keys import GLOBAL_ROW, UNITS, cell_field, counts_field, split_cell_field
from engine.models import Attempt, CellRecord
from engine.spec import PhaseSpec
from engine.states import (
    BLOCKED,
    CANCELLED,
    CELL_STATES,
    FAILED,
    PENDING,
    RUNNING,
    SKIPPED,
    STATE_CODES,
    SUCCEEDED,
    TERMINAL,
    UNIT_STATES,
    WAITING,
    unit_rollup,
)


class CellBook:
    def __init__(
        self,
        *,
        job_id: str,
        phases: Iterable[PhaseSpec],
        unit_keys: Iterable[str],
        journal: Journal,
        clock: Callable[[], float],
        on_unit_failed: Callable[[], None],
        metrics: Mapping[str, float] | None = None,
        ledger_seq: int = 0,
    ) -> None:
        self.job_id = job_id
        self.phases = list(phases)
        self.unit_keys = list(unit_keys)
        self.journal = journal
        self.clock = clock
        self.on_unit_failed = on_unit_failed
        """Called each time a unit turns failed (the scheduler's failure policy)."""
        self.n = len(self.unit_keys)
        self.global_row = self.n
        """The row of the global (once per job) phases' cells, after the units' rows."""
        self.per_unit = [p.per_unit for p in self.phases]
        phase_count, rows = len(self.phases), self.n + 1
        self.state = [bytearray(phase_count) for _ in range(rows)]
        # cell records as plain dicts in CellRecord's aliased JSON shape (hot path)
        self.records: list[list[dict[str, Any] | None]] = [
            [None] * phase_count for _ in range(rows)
        ]
        self.values: list[dict[str, Any]] = [{} for _ in range(rows)]
        self.attempt_log: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self.done_per_row = [0] * rows
        self.counts = [[0] * len(CELL_STATES) for _ in range(phase_count)]
        self.unit_state = ["pending"] * self.n
        self.unit_counts = dict.fromkeys(UNIT_STATES, 0)
        self.unit_counts["pending"] = self.n
        self.failed_units = 0
        self.transitions = 0
        self.metrics: dict[str, float] = dict(metrics or {})
        self.ledger_seq = ledger_seq
        self.interrupted: set[tuple[int, int]] = set()
        """Cells that were running when the last owner of the job stopped: their
        calls may have landed, so cancelling one leaves its outcome unknown."""

    # -- rows -------------------------------------------------------------------

    def row_of(self, key: str) -> int:
        return self.global_row if key == GLOBAL_ROW else int(key)

    def rowname(self, row: int) -> str:
        return GLOBAL_ROW if row == self.global_row else str(row)

    def rows(self, p: int) -> range:
        """The rows that have a cell of phase `p`: every unit's, or the global row."""
        return range(self.n) if self.per_unit[p] else range(self.global_row, self.global_row + 1)

    def key(self, row: int) -> str | None:
        """The unit key of a row (None for the global row)."""
        return None if row == self.global_row else self.unit_keys[row]

    def load(
        self,
        cells: Mapping[str, CellRecord],
        values: Mapping[str, dict[str, Any]],
        attempts: Mapping[str, list[Attempt]],
    ) -> None:
        """What Redis holds of the job (a resume or a retry); a cell that was running
        is pending again (executors are idempotent) and remembered as interrupted."""
        pindex = {spec.id: p for p, spec in enumerate(self.phases)}
        for field, rec in cells.items():
            row_s, pid = split_cell_field(field)
            p = pindex.get(pid)
            if p is None:
                continue
            row = self.row_of(row_s)
            code = STATE_CODES[rec.state]
            if code in (RUNNING, WAITING):  # interrupted: run again (executors are idempotent)
                code = PENDING
                self.interrupted.add((row, p))
            record = rec.model_dump(by_alias=True, exclude_defaults=True)
            record["s"] = CELL_STATES[code].value
            self.records[row][p] = record
            self.state[row][p] = code
        for key, vals in values.items():
            self.values[self.row_of(key)] = dict(vals)
        for field, items in attempts.items():
            row_s, pid = split_cell_field(field)
            if pid in pindex:
                self.attempt_log[(self.row_of(row_s), pindex[pid])] = [
                    a.model_dump() for a in items
                ]
        for p in range(len(self.phases)):
            for row in self.rows(p):
                self.counts[p][self.state[row][p]] += 1
                if self.state[row][p] in TERMINAL:
                    self.done_per_row[row] += 1
        for row in range(self.n):
            self._update_unit(row)
        self.failed_units = sum(1 for s in self.unit_state if s == "failed")

    # -- state bookkeeping ----------------------------------------------------

    def _update_unit(self, row: int) -> None:
        states = self.state[row]
        if not all(self.per_unit):  # a unit row's global-phase columns never leave PENDING
            states = bytearray(s for s, per in zip(states, self.per_unit, strict=True) if per)
        new = unit_rollup(states)
        old = self.unit_state[row]
        if new != old:
            self.unit_counts[old] -= 1
            self.unit_counts[new] += 1
            self.unit_state[row] = new
            if new == "failed" and old != "failed":
                self.failed_units += 1
                self.on_unit_failed()

    def set_state(
        self,
        row: int,
        p: int,
        code: int,
        *,
        attempts: int | None = None,
        started: float | None = None,
        ended: float | None = None,
        error: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        old = self.state[row][p]
        if old == code and code not in (RUNNING,):
            return
        rec = self.records[row][p]
        if rec is None:
            rec = self.records[row][p] = {}
        rec["s"] = CELL_STATES[code].value
        if attempts is not None:
            rec["a"] = attempts
        if started is not None:
            rec["t0"] = started
        if ended is not None:
            rec["t1"] = ended
        if error is not None:
            rec["e"] = error
        elif code in (SUCCEEDED, SKIPPED, PENDING):
            rec.pop("e", None)
        if outcome_unknown:
            rec["u"] = True
        self.state[row][p] = code
        self.counts[p][old] -= 1
        self.counts[p][code] += 1
        if code in TERMINAL and old not in TERMINAL:
            self.done_per_row[row] += 1
            self.transitions += 1
        self.journal.cell(cell_field(self.rowname(row), self.phases[p].id), rec)
        if row != self.global_row:
            self._update_unit(row)

    def block(self, row: int, p: int, by: str, error: str) -> None:
        self.set_state(row, p, BLOCKED, error=error)
        self.journal.event(
            PhaseBlocked(
                ts=self.clock(),
                job_id=self.job_id,
                unit=self.key(row),
                phase=self.phases[p].id,
                by=by,
            )
        )

    def cancel(self, row: int, p: int, why: str, *, outcome_unknown: bool = False) -> None:
        self.set_state(
            row, p, CANCELLED, ended=self.clock(), error=why, outcome_unknown=outcome_unknown
        )
        self.journal.event(
            PhaseCancelled(
                ts=self.clock(),
                job_id=self.job_id,
                unit=self.key(row),
                phase=self.phases[p].id,
                outcome_unknown=outcome_unknown,
            )
        )

    # -- snapshots for the journal -------------------------------------------

    def snapshot(self) -> tuple[dict[str, int], dict[str, Any]]:
        counts: dict[str, int] = {}
        for p, spec in enumerate(self.phases):
            for code, name in enumerate(CELL_STATES):
                counts[counts_field(spec.id, name)] = self.counts[p][code]
        for name, n in self.unit_counts.items():
            counts[counts_field(UNITS, name)] = n
        meta = {
            "transitions": self.transitions,
            "metrics": json.dumps(self.metrics),
            "updated_at": self.clock(),
            "ledger_seq": self.ledger_seq,
        }
        return counts, meta

    @property
    def any_cancelled(self) -> bool:
        return self.unit_counts["cancelled"] > 0 or any(
            self.state[self.global_row][p] == CANCELLED
            for p in range(len(self.phases))
            if not self.per_unit[p]
        )

    @property
    def any_failed(self) -> bool:
        return any(self.unit_state[r] in ("failed", "blocked") for r in range(self.n)) or any(
            self.state[self.global_row][p] in (FAILED, BLOCKED)
            for p in range(len(self.phases))
            if not self.per_unit[p]
        )
