"""The job screen's data: unit x phase states in one bytearray, updated from
batches of engine events (never one UI message per cell)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.states import BAD, FAILED, PENDING, RUNNING, WAITING
from engine.states import STATE_CODES as CODE

EVENT_STATE = {
    "phase_started": RUNNING,
    "phase_waiting": WAITING,
    "phase_succeeded": CODE["succeeded"],
    "phase_skipped": CODE["skipped"],
    "phase_failed": FAILED,
    "phase_retrying": RUNNING,
    "phase_blocked": CODE["blocked"],
    "phase_cancelled": CODE["cancelled"],
}


@dataclass
class GridModel:
    keys: list[str]
    phases: list[str]
    """Per-unit phase ids (the grid's columns), in workflow order."""
    titles: list[str] = field(default_factory=list)
    states: bytearray = field(default_factory=bytearray)
    global_states: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.n = len(self.keys)
        self.p = len(self.phases)
        if not self.states:
            self.states = bytearray(self.n * self.p)
        self.row_of = {k: i for i, k in enumerate(self.keys)}
        self.col_of = {pid: j for j, pid in enumerate(self.phases)}
        self.bad_rows: set[int] = set()

    def state(self, row: int, col: int) -> int:
        return self.states[row * self.p + col]

    def row_states(self, row: int) -> bytes:
        return bytes(self.states[row * self.p : (row + 1) * self.p])

    def set_row(self, row: int, codes: Sequence[int]) -> None:
        self.states[row * self.p : (row + 1) * self.p] = bytes(codes)
        self._track(row)

    def _track(self, row: int) -> None:
        if any(c in BAD for c in self.states[row * self.p : (row + 1) * self.p]):
            self.bad_rows.add(row)
        else:
            self.bad_rows.discard(row)

    def load_page(self, units: Iterable[Any]) -> None:
        """Apply an engine `UnitPage`'s units (UnitView: index, phases)."""
        for u in units:
            codes = [
                CODE.get(str(getattr(u.phases.get(pid), "state", "pending")), PENDING)
                for pid in self.phases
            ]
            self.set_row(u.index, codes)

    def apply(self, events: Iterable[Any]) -> set[int]:
        """Apply engine events; return the rows that changed."""
        changed: set[int] = set()
        states = self.states
        p = self.p
        for ev in events:
            code = EVENT_STATE.get(ev.type)
            if code is None:
                continue
            unit = ev.unit
            if unit is None:
                self.global_states[ev.phase] = code
                continue
            row = self.row_of.get(unit)
            col = self.col_of.get(ev.phase)
            if row is None or col is None:
                continue
            i = row * p + col
            if states[i] != code:
                old = states[i]
                states[i] = code
                changed.add(row)
                if code in BAD:
                    self.bad_rows.add(row)
                elif old in BAD:
                    self._track(row)
        return changed

    def counts(self) -> list[dict[int, int]]:
        out: list[dict[int, int]] = [dict() for _ in range(self.p)]
        for j in range(self.p):
            col = self.states[j :: self.p]
            for code in set(col):
                out[j][code] = col.count(code)
        return out
