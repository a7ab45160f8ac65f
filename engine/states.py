"""The eight cell states, in their order, and the unit roll-up: declared once, here.

The order is the states' small-int code (the engine's hot path keeps cells in
bytearrays, the TUI's grid too); every face names the states by `CellState`'s
values. A unit's state is a roll-up of its per-unit cells.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class CellState(StrEnum):
    """State of one (unit, phase) cell; declaration order is the state's code."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_CELL_STATES

    @property
    def code(self) -> int:
        return STATE_CODES[self]


CELL_STATES: tuple[CellState, ...] = tuple(CellState)
"""Every state, in code order (`CELL_STATES[code]` names a code)."""
STATE_CODES: dict[str, int] = {s: i for i, s in enumerate(CELL_STATES)}
"""State (a `CellState` or its plain string value) -> code."""

PENDING = STATE_CODES[CellState.PENDING]
RUNNING = STATE_CODES[CellState.RUNNING]
WAITING = STATE_CODES[CellState.WAITING]
SUCCEEDED = STATE_CODES[CellState.SUCCEEDED]
FAILED = STATE_CODES[CellState.FAILED]
SKIPPED = STATE_CODES[CellState.SKIPPED]
BLOCKED = STATE_CODES[CellState.BLOCKED]
CANCELLED = STATE_CODES[CellState.CANCELLED]

TERMINAL = frozenset({SUCCEEDED, FAILED, SKIPPED, BLOCKED, CANCELLED})
"""Codes of the states a cell never leaves (until a retry resets it)."""
TERMINAL_CELL_STATES = frozenset(CELL_STATES[c] for c in TERMINAL)
RERUNNABLE_CELL_STATES = frozenset({CellState.FAILED, CellState.BLOCKED, CellState.CANCELLED})
"""What a retry sends back to pending."""
BAD = frozenset({FAILED, BLOCKED})
"""Codes of a unit that needs attention (failed, or blocked by a failure)."""

UNIT_STATES: tuple[str, ...] = ("pending", "running", "succeeded", "failed", "blocked", "cancelled")
"""What `unit_rollup` answers, in display order."""


def unit_rollup(codes: Iterable[int]) -> str:
    """One word per unit from its per-unit cells' codes:
    failed > blocked > cancelled > succeeded (all terminal) > running > pending."""
    states = codes if isinstance(codes, bytes | bytearray) else bytes(codes)
    if FAILED in states:
        return "failed"
    if BLOCKED in states:
        return "blocked"
    if CANCELLED in states:
        return "cancelled"
    if all(s in TERMINAL for s in states):
        return "succeeded"
    if any(s != PENDING for s in states):
        return "running"
    return "pending"
