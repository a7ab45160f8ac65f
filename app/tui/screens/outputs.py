"""A job's outputs in the TUI: its ledger (what it created, reused or deleted), the
per-unit results export (CSV, the same rows as `phasegrid results`) and the
passphrase hand-out (a new 0600 file; never shown on screen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

LEDGER_ROWS = 2000
ACTION_COLORS = {"created": "green", "reused": "cyan", "deleted": "bright_black",
                 "unknown": "magenta"}  # fmt: skip


class LedgerScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,l", "dismiss", "Close", id="ledger.close")]

    def __init__(self, job_id: str, entries: list[Any]) -> None:
        super().__init__()
        self.job_id = job_id
        self.entries = entries

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, header_style="bold")
        for col in ("#", "unit", "phase", "resource", "name", "id", "action"):
            table.add_column(col)
        for e in self.entries[:LEDGER_ROWS]:
            table.add_row(
                str(e.seq), e.unit or "global", e.phase, e.resource, e.name or "", e.id,
                Text(e.action, ACTION_COLORS.get(e.action, "")),
            )  # fmt: skip
        more = len(self.entries) - LEDGER_ROWS
        with VerticalScroll(id="ledger-box"):
            yield Static(Text(f"Ledger of {self.job_id}: {len(self.entries)} entries", "bold"))
            yield Static(table)
            if more > 0:
                yield Static(Text(f"... and {more} more (phasegrid results)", "bright_black"))
            yield Static(Text("escape closes", "bright_black"))

    async def action_dismiss(self, result: Any = None) -> None:
        self.dismiss(None)


async def export_results(engine: Any, job_id: str, folder: Path) -> Path:
    from engine.report import to_csv

    path = folder / f"results-{job_id}.csv"
    path.write_text(to_csv(await engine.results(job_id)), encoding="utf-8")
    return path


async def export_handout(runtime: Any, job_id: str, folder: Path) -> str:
    """Write the job's passphrases to a new 0600 file; returns what to tell the user
    (never a passphrase)."""
    from workflows.handout import handout_csv, read_handout, write_private

    engine = runtime.engine
    view = await engine.get(job_id)
    here = engine.target.describe()
    if view.target and view.target != here:
        return f"job {job_id} ran against {view.target}: use phasegrid handout with its backend"
    handout = await read_handout(runtime.r1, await engine.ledger(job_id))
    if not handout.wanted:
        return f"job {job_id} created no passphrases: nothing to hand out"
    path = folder / f"passphrases-{job_id}.csv"
    try:
        write_private(path, handout_csv(handout.rows))
    except FileExistsError:
        return f"{path} exists: not overwritten (move it away first)"
    missing = f"; {len(handout.missing)} no longer on R1" if handout.missing else ""
    return f"wrote {len(handout.rows)} passphrase(s) to {path} (0600){missing}"
