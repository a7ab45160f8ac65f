"""The cell book: the state of every (unit, phase) cell of a running job.

It keeps states as small ints in per-row bytearrays (the hot path), counts per
phase and per unit, the unit roll-up, and writes every change to the journal.
The brain (scheduling) builds on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.events import PhaseBlocked, PhaseCancelled
from engine.models import Attempt, CellRecord
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
    WAITING,
    unit_rollup,
)


def cell_field(row: int | str, phase_id: str) -> str:
    return f"{row}|{phase_id}"


class CellBook:
    """Bookkeeping of cells; a mixin of `Brain`, whose __init__ sets the fields."""

    job_id: str
    phases: list[Any]
    units: list[Any]
    unit_keys: list[str]
    options: Any
    n: int
    global_row: int
    per_unit: list[bool]
    critical: list[bool]
    deps: list[list[int]]
    state: list[bytearray]
    records: list[list[dict[str, Any] | None]]
    remaining: list[list[int]]
    values: list[dict[str, Any]]
    attempt_log: dict[tuple[int, int], list[dict[str, Any]]]
    done_per_row: list[int]
    counts: list[list[int]]
    unit_state: list[str]
    unit_counts: dict[str, int]
    failed_units: int
    transitions: int
    metrics: dict[str, float]
    ledger_seq: int
    interrupted: set[tuple[int, int]]
    """Cells that were running when the last owner of the job stopped: their
    calls may have landed, so cancelling one leaves its outcome unknown."""
    journal: Any
    clock: Any

    def _make_ready(self, row: int, p: int) -> None:  # scheduling: see Brain
        raise NotImplementedError

    def _check_failed_units(self) -> None:  # failure policy: see Brain
        raise NotImplementedError

    # -- loading (fresh run, resume or retry) -------------------------------

    def _row_of(self, key: str) -> int:
        return self.global_row if key == "g" else int(key)

    def _rowname(self, row: int) -> str:
        return "g" if row == self.global_row else str(row)

    def _rows(self, p: int) -> range:
        return range(self.n) if self.per_unit[p] else range(self.global_row, self.global_row + 1)

    def _load(
        self,
        cells: Mapping[str, CellRecord],
        values: Mapping[str, dict[str, Any]],
        attempts: Mapping[str, list[Attempt]],
    ) -> None:
        for field, rec in cells.items():
            row_s, pid = field.split("|", 1)
            p = self.pindex.get(pid)
            if p is None:
                continue
            row = self._row_of(row_s)
            code = STATE_CODES[rec.state]
            if code in (RUNNING, WAITING):  # interrupted: run again (executors are idempotent)
                code = PENDING
                self.interrupted.add((row, p))
            record = rec.model_dump(by_alias=True, exclude_defaults=True)
            record["s"] = CELL_STATES[code].value
            self.records[row][p] = record
            self.state[row][p] = code
        for key, vals in values.items():
            self.values[self._row_of(key)] = dict(vals)
        for field, items in attempts.items():
            row_s, pid = field.split("|", 1)
            if pid in self.pindex:
                self.attempt_log[(self._row_of(row_s), self.pindex[pid])] = [
                    a.model_dump() for a in items
                ]
        for p in range(len(self.phases)):
            for row in self._rows(p):
                self.counts[p][self.state[row][p]] += 1
                if self.state[row][p] in TERMINAL:
                    self.done_per_row[row] += 1
        for row in range(self.n):
            self._update_unit(row)
        self.failed_units = sum(1 for s in self.unit_state if s == "failed")
        # dependency counters, in topological order so loaded blocks propagate
        for p in range(len(self.phases)):
            for row in self._rows(p):
                if self.state[row][p] != PENDING:
                    continue
                blocked_by = None
                remaining = 0
                for d in self.deps[p]:
                    if self.per_unit[p] and self.per_unit[d]:
                        s = self.state[row][d]
                        if s in TERMINAL:
                            if not self._ok(d, s):
                                blocked_by = self.phases[d].id
                        else:
                            remaining += 1
                    elif self.per_unit[p]:  # per-unit after global
                        s = self.state[self.global_row][d]
                        if s in TERMINAL:
                            if not self._ok(d, s):
                                blocked_by = self.phases[d].id
                        else:
                            remaining += 1
                    elif self.per_unit[d]:  # global after per-unit: all units terminal
                        remaining += sum(
                            1 for r in range(self.n) if self.state[r][d] not in TERMINAL
                        )
                    else:
                        s = self.state[self.global_row][d]
                        if s in TERMINAL:
                            if not self._ok(d, s):
                                blocked_by = self.phases[d].id
                        else:
                            remaining += 1
                if blocked_by is not None:
                    self._set(row, p, BLOCKED, error=f"blocked by {blocked_by}")
                    self._emit_blocked(row, p, blocked_by)
                else:
                    self.remaining[row][p] = remaining
        ready: list[tuple[int, int]] = []
        for p in range(len(self.phases)):
            for row in self._rows(p):
                if self.state[row][p] == PENDING and self.remaining[row][p] == 0:
                    ready.append((row, p))
        for row, p in ready:
            if self.state[row][p] == PENDING:
                self._make_ready(row, p)

    # -- state bookkeeping ----------------------------------------------------

    def _ok(self, p: int, s: int) -> bool:
        return s in (SUCCEEDED, SKIPPED) or (s == FAILED and not self.critical[p])

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
                self._check_failed_units()

    def _set(
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
        self.journal.cell(cell_field(self._rowname(row), self.phases[p].id), rec)
        if row != self.global_row:
            self._update_unit(row)

    def _key(self, row: int) -> str | None:
        return None if row == self.global_row else self.unit_keys[row]

    def _emit_blocked(self, row: int, p: int, by: str) -> None:
        self.journal.event(
            PhaseBlocked(
                ts=self.clock(),
                job_id=self.job_id,
                unit=self._key(row),
                phase=self.phases[p].id,
                by=by,
            )
        )

    def _cancel_cell(self, row: int, p: int, why: str, *, outcome_unknown: bool = False) -> None:
        self._set(row, p, CANCELLED, ended=self.clock(), error=why, outcome_unknown=outcome_unknown)
        self.journal.event(
            PhaseCancelled(
                ts=self.clock(),
                job_id=self.job_id,
                unit=self._key(row),
                phase=self.phases[p].id,
                outcome_unknown=outcome_unknown,
            )
        )

    # -- snapshots for the journal -------------------------------------------

    def snapshot(self) -> tuple[dict[str, int], dict[str, Any]]:
        counts: dict[str, int] = {}
        for p, spec in enumerate(self.phases):
            for code, name in enumerate(CELL_STATES):
                counts[f"{spec.id}|{name.value}"] = self.counts[p][code]
        for name, n in self.unit_counts.items():
            counts[f"units|{name}"] = n
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
