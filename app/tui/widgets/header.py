"""Top-of-screen widgets: the SIMULATED banner and the job header line."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from app.tui.style import CODE, COLOR, GLYPH, STATUS_COLOR, fmt_duration


class Banner(Static):
    DEFAULT_CSS = """
    Banner {
        dock: top; height: 1; width: 100%;
        background: $warning; color: $background; text-style: bold; content-align: center middle;
    }
    """

    def __init__(self) -> None:
        super().__init__("SIMULATED - backend is the built-in R1 simulator", id="banner")


def metric(metrics: dict[str, float], *names: str) -> int | None:
    for name in names:
        if name in metrics:
            return int(metrics[name])
    found = [v for k, v in metrics.items() if any(k.endswith(n) for n in names)]
    return int(sum(found)) if found else None


def header_text(view: Any, wide: bool = True) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    status = view.status.value
    t.append(f" {view.title or view.workflow} ", "bold")
    t.append(f"[{view.id}] ", "bright_black")
    t.append(f" {status} ", f"bold reverse {STATUS_COLOR.get(status, 'white')}")
    if view.cancel_requested and not view.status.terminal:
        t.append(f" cancel:{view.cancel_requested}", "magenta")
    t.append("  elapsed ", "bright_black")
    t.append(fmt_duration(view.elapsed))
    t.append("  ETA ", "bright_black")
    t.append(fmt_duration(view.eta_seconds) if view.eta_seconds is not None else "--:--")
    t.append("  ")
    t.append(f"{view.throughput:.1f}" if view.throughput else "-")
    t.append(" cells/s", "bright_black")
    calls = metric(view.metrics, "api_calls", "calls")
    t.append("  API ", "bright_black")
    t.append(str(calls) if calls is not None else "-")
    limited = metric(view.metrics, "rate_limited", "429")
    t.append("  429s ", "bright_black")
    t.append(str(limited or 0), "yellow" if limited else "")
    t.append("\n")
    u = view.units_by_state
    t.append(f" {view.units_total} units: ", "bright_black")
    for name in ("succeeded", "running", "pending", "failed", "blocked", "cancelled"):
        n, code = u.get(name, 0), CODE[name]
        if n or name in ("succeeded", "failed"):
            t.append(f"{GLYPH[code]}{n} ", COLOR[code])
            if wide:
                t.append(f"{name}  ", "bright_black")
    pct = int(view.progress * 100)
    t.append(f" {pct}% of {view.transitions_total} cells", "bright_black")
    if view.error:
        t.append(f"  error: {view.error}", "red")
    if view.waiting:
        t.append(f"  {view.waiting}", "yellow")
    return t
