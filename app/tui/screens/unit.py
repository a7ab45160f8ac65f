"""Unit detail (per phase state, attempts with errors, resolved ids, timings,
inputs with secrets masked unless revealed) and the audit report."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from app.tui.screens.base import BaseScreen
from app.tui.style import CODE, COLOR, GLYPH
from app.tui.widgets.header import Banner


def innermost(error: str | None) -> str:
    """The innermost message of a chained error ('a: b: c' -> 'c' when long)."""
    if not error:
        return ""
    return error.strip()


def state_text(state: str) -> Text:
    code = CODE.get(state, 0)
    return Text(f"{GLYPH[code]} {state}", COLOR[code])


def detail_renderables(detail: Any, titles: dict[str, str], t0: float | None) -> list[Any]:
    out: list[Any] = []
    head = Text()
    head.append(f"Unit {detail.unit}", "bold")
    head.append("  ")
    head.append_text(state_text(detail.state))
    out.append(head)
    table = Table(expand=True, show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("phase", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("plan", no_wrap=True)
    table.add_column("tries", justify="right")
    table.add_column("start", justify="right", no_wrap=True)
    table.add_column("took", justify="right", no_wrap=True)
    table.add_column("error", ratio=1, overflow="fold")
    for pid, rec in detail.phases.items():
        plan = detail.plan.get(pid)
        start = took = ""
        if rec.started_at is not None and t0 is not None:
            start = f"+{rec.started_at - t0:.1f}s"
        if rec.started_at is not None and rec.ended_at is not None:
            took = f"{rec.ended_at - rec.started_at:.1f}s"
        table.add_row(
            titles.get(pid, pid),
            state_text(rec.state.value),
            plan.action if plan else "",
            str(rec.attempts or ""),
            start,
            took,
            Text(innermost(rec.error), "red"),
        )
    out.append(table)
    attempts = [(pid, a) for pid, lst in detail.attempts.items() for a in lst]
    if attempts:
        out.append(Text("\nAttempts", "bold"))
        for pid, a in attempts:
            t = Text(f"  {titles.get(pid, pid)} #{a.n} ", "")
            t.append(
                "transient " if a.transient else "permanent ", "yellow" if a.transient else "red"
            )
            t.append(innermost(a.error))
            out.append(t)
    if detail.values:
        out.append(Text("\nResolved ids", "bold"))
        for k, v in sorted(detail.values.items()):
            out.append(Text.assemble(f"  {k} = ", (str(v), "cyan")))
    if detail.inputs:
        out.append(Text("\nInputs", "bold"))
        for k, v in detail.inputs.items():
            out.append(Text(f"  {k} = {v}"))
    return out


class UnitDetailScreen(BaseScreen):
    BINDINGS = [
        Binding("s", "toggle_secrets", "Reveal secrets", id="unit.reveal"),
        Binding("escape", "app.pop_screen", "Back", id="unit.back"),
        Binding("q", "app.pop_screen", "Back", show=False, id="unit.q"),
    ]

    def __init__(self, job_id: str, unit: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.unit = unit
        self.reveal = False

    def compose(self) -> ComposeResult:
        if self.pg.simulated:
            yield Banner()
        yield Static(f"Unit {self.unit}", classes="screen-title")
        with VerticalScroll(id="unit-body"):
            yield Static("Loading...", id="unit-detail")
        yield Footer()

    async def on_mount(self) -> None:
        await self.load()
        self.set_interval(1.0, self.load)

    async def load(self) -> None:
        engine = self.engine
        detail = await self.call_engine(engine.unit(self.job_id, self.unit, reveal=self.reveal))
        view = await self.call_engine(engine.get(self.job_id))
        if detail is None or view is None:
            return
        titles = {n.id: n.title for n in engine.describe(view.workflow).nodes}
        from rich.console import Group

        parts = detail_renderables(detail, titles, view.started_at)
        note = "secrets shown (s hides)" if self.reveal else "secrets masked (s reveals)"
        parts.append(Text(f"\n{note}", "bright_black"))
        self.query_one("#unit-detail", Static).update(Group(*parts))

    async def action_toggle_secrets(self) -> None:
        self.reveal = not self.reveal
        await self.load()


class AuditScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,a", "dismiss", "Close", id="audit.close")]

    def __init__(self, report: Any) -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        r = self.report
        counts = ", ".join(f"{n} {s}" for s, n in r.counts.items()) or "nothing to check"
        table = Table(box=None, expand=True, header_style="bold")
        for col in ("unit", "resource", "name", "status", "detail"):
            table.add_column(col)
        colors = {"present": "green", "missing": "red", "drifted": "yellow"}
        for item in r.items[:500]:
            table.add_row(
                item.unit or "global",
                item.resource,
                item.name or item.id or "",
                Text(item.status, colors.get(item.status, "")),
                item.detail or "",
            )
        with VerticalScroll(id="audit-box"):
            yield Static(Text(f"Audit of {r.job_id}: {counts}", "bold"))
            yield Static(table)
            yield Static(Text("escape closes", "bright_black"))

    async def action_dismiss(self, result: Any = None) -> None:
        self.dismiss(None)
