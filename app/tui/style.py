"""Cell glyphs and colours: every state is a distinct glyph *and* a colour, so
the grid reads in 16 colours and with NO_COLOR alike."""

from __future__ import annotations

from rich.style import Style

from engine.states import CELL_STATES, FAILED, RUNNING, STATE_CODES, CellState

# the states, their order and codes are the engine's (engine.states); here only their looks
STATES: tuple[str, ...] = tuple(s.value for s in CELL_STATES)
CODE = STATE_CODES

_LOOK: dict[CellState, tuple[str, str]] = {  # glyph, colour
    CellState.PENDING: ("·", "bright_black"),
    CellState.RUNNING: ("»", "cyan"),
    CellState.WAITING: ("○", "blue"),
    CellState.SUCCEEDED: ("✓", "green"),
    CellState.FAILED: ("✗", "red"),
    CellState.SKIPPED: ("-", "bright_black"),
    CellState.BLOCKED: ("!", "yellow"),
    CellState.CANCELLED: ("×", "magenta"),  # noqa: RUF001
}
GLYPH: tuple[str, ...] = tuple(_LOOK[s][0] for s in CELL_STATES)
COLOR: tuple[str, ...] = tuple(_LOOK[s][1] for s in CELL_STATES)
STYLE: tuple[Style, ...] = tuple(
    Style(color=c, bold=i in (FAILED, RUNNING)) for i, c in enumerate(COLOR)
)
CURSOR_STYLE: tuple[Style, ...] = tuple(s + Style(reverse=True) for s in STYLE)

ACTION_GLYPH = {
    "create": ("+", "green"),
    "reuse": ("=", "cyan"),
    "update": ("~", "yellow"),
    "delete": ("-", "red"),
    "skip": ("·", "bright_black"),
    "conflict": ("!", "bold red"),
    "run": (">", "blue"),
}

STATUS_COLOR = {
    "PLANNING": "cyan",
    "AWAITING_CONFIRMATION": "yellow",
    "QUEUED": "cyan",
    "RUNNING": "cyan",
    "PAUSED": "yellow",
    "COMPLETED": "green",
    "PARTIAL": "yellow",
    "FAILED": "red",
    "CANCELLED": "magenta",
    "DISCARDED": "bright_black",
    "EXPIRED": "bright_black",
}


def legend() -> str:
    return "  ".join(f"{GLYPH[i]} {s}" for i, s in enumerate(STATES))


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = max(0, round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def fmt_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
