"""Plan review: what the job will create, reuse or is in conflict, before
anything is written. `y` confirms (never while conflicts remain; destructive
plans also need the confirm text typed), `n`/`escape` discards, `e` exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static

from app.tui.screens.base import BaseScreen
from app.tui.style import ACTION_GLYPH, fmt_duration
from app.tui.widgets.header import Banner
from rpc.principal import local


class TypedConfirm(ModalScreen[str | None]):
    """A destructive plan: type the confirm text (e.g. the venue name) to run it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="typed.cancel")]

    def __init__(self, expected: str, headline: str) -> None:
        super().__init__()
        self.expected = expected
        self.headline = headline

    def compose(self) -> ComposeResult:
        with Vertical(id="typed-box"):
            yield Static(Text("This plan DELETES resources.", "bold red"))
            yield Static(self.headline)
            yield Label(Text.assemble("Type ", (self.expected, "bold"), " to confirm:"))
            yield Input(id="typed-input", placeholder=self.expected)
            yield Static("", id="typed-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value == self.expected:
            self.dismiss(event.value)
        else:
            self.query_one("#typed-error", Static).update(
                Text("That does not match; nothing was confirmed.", "red")
            )

    def action_cancel(self) -> None:
        self.dismiss(None)


def plan_summary_text(plan: Any, wide: bool) -> Text:
    s = plan.summary
    t = Text()
    style = "bold red" if s.conflicts else "bold"
    t.append(s.headline(), style)
    t.append("\n")
    t.append(f"{s.units} units", "bright_black")
    t.append(f"  ~{s.estimated_calls} API calls", "")
    t.append(f"  ~{fmt_duration(s.estimated_seconds)} estimated", "")
    if s.estimated_range is not None:
        low, high = (fmt_duration(x) for x in s.estimated_range)
        if low != high:  # the range, where it says more than the point
            t.append(f" ({low}-{high})", "bright_black")
    if s.skip:
        t.append(f"  {s.skip} skipped", "bright_black")
    t.append(
        f"\nworkflow {plan.workflow}  job {plan.job_id}  digest {plan.digest[:12]}", "bright_black"
    )
    if s.destructive:
        t.append("\nDESTRUCTIVE: ", "bold red")
        t.append(f"confirming asks you to type {s.confirm_text!r}" if s.confirm_text else "")
    return t


class PlanReviewScreen(BaseScreen):
    BINDINGS = [
        Binding("y", "confirm", "Confirm", id="plan.confirm"),
        Binding("n", "discard", "Discard", id="plan.discard"),
        Binding("escape", "discard", "Discard", show=False, id="plan.escape"),
        Binding("e", "export", "Export JSON", id="plan.export"),
        Binding("q", "back", "Back (keep plan)", id="plan.back"),
    ]

    def __init__(self, plan: Any) -> None:
        super().__init__()
        self.plan = plan
        self.busy = False
        self.acted = False
        """Set once this screen confirmed or discarded: the follower then stays quiet."""

    def compose(self) -> ComposeResult:
        if self.pg.simulated:
            yield Banner()
        yield Static("Plan review", classes="screen-title")
        yield Static(plan_summary_text(self.plan, True), id="plan-summary")
        s = self.plan.summary
        blocked = (
            Text(
                f"{s.conflicts} conflict(s) must be resolved before this plan can run: "
                "fix the input or the tenant, then plan again (n discards).",
                "bold red",
            )
            if s.conflicts
            else Text("Press y to run this plan.", "green")
        )
        yield Static(blocked, id="plan-blocked")
        yield DataTable(id="plan-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#plan-table", DataTable)
        plan = self.plan
        phase_ids: list[str] = []
        for u in plan.units[:1]:
            phase_ids = list(u.phases)
        try:
            desc = self.engine.describe(plan.workflow)
            titles = {n.id: n.title for n in desc.nodes}
            phase_ids = [n.id for n in desc.nodes if n.per_unit] or phase_ids
        except Exception:
            titles = {}
        table.add_column("unit", key="unit")
        for i, pid in enumerate(phase_ids):
            table.add_column(str(i + 1), key=pid)
        table.add_column("notes", key="notes")
        self.phase_ids = phase_ids

        def cell(action: str) -> Text:
            glyph, color = ACTION_GLYPH.get(action, ("?", ""))
            return Text(glyph, color)

        if plan.global_phases:
            notes = ", ".join(
                f"{titles.get(k, k)}: {v.action}" for k, v in plan.global_phases.items()
            )
            kept = [
                v.data["kept_note"] for v in plan.global_phases.values() if v.data.get("kept_note")
            ]
            notes = "; ".join([notes, *kept])  # a cleanup says what it keeps
            table.add_row(
                Text("(global)", "italic"),
                *[Text("") for _ in phase_ids],
                Text(notes, "italic"),
                key="__global__",
            )
        ordered = sorted(enumerate(plan.units), key=lambda iu: (not iu[1].conflicts, iu[0]))
        for _, u in ordered:
            conflicts = u.conflicts
            notes = "; ".join(f"{pid}: {u.phases[pid].detail or 'conflict'}" for pid in conflicts)
            row = [cell(u.phases[pid].action) if pid in u.phases else Text("") for pid in phase_ids]
            table.add_row(
                Text(u.unit, "bold red" if conflicts else ""),
                *row,
                Text(notes, "red"),
                key=u.unit,
            )
        legend = "  ".join(f"{g} {a}" for a, (g, _) in ACTION_GLYPH.items())
        cols = "  ".join(f"{i + 1}={titles.get(p, p)}" for i, p in enumerate(phase_ids))
        table.border_subtitle = legend
        table.border_title = cols
        self.run_worker(self._follow_elsewhere(), exclusive=True, group="plan-follow")

    async def _follow_elsewhere(self) -> None:
        """A script or an agent may confirm or discard this plan: follow it."""
        engine = self.engine
        job_id = self.plan.job_id
        cursor = await engine.last_cursor(job_id)
        async for record in engine.follow(job_id, after=cursor):
            kind = record.event.type
            if self.busy or self.acted:
                continue
            if kind == "job_confirmed":
                from app.tui.screens.job import JobScreen

                self.notify(f"Plan {job_id} was confirmed by another client.")
                self.app.switch_screen(JobScreen(job_id))
                return
            if kind in ("job_status", "job_finished", "cancel_requested"):
                view = await engine.get(job_id)
                if view.status.value != "AWAITING_CONFIRMATION":
                    self.notify(f"Plan {job_id} is now {view.status.value}.")
                    self.app.pop_screen()
                    return

    async def action_confirm(self) -> None:
        s = self.plan.summary
        if self.busy:
            return
        if s.conflicts:
            self.app.bell()
            self.notify(
                f"{s.conflicts} conflict(s) block confirmation.", severity="error", timeout=6
            )
            return
        if s.destructive and s.confirm_text:
            self.app.push_screen(TypedConfirm(s.confirm_text, s.headline()), self._typed)
            return
        await self._confirm(None)

    async def _typed(self, text: str | None) -> None:
        if text is None:
            self.notify("Not confirmed.")
            return
        await self._confirm(text)

    async def _confirm(self, text: str | None) -> None:
        self.busy = True
        try:
            view = await self.call_engine(
                self.engine.confirm(
                    self.plan.job_id, self.plan.digest, confirm_text=text, principal=local()
                )
            )
        finally:
            self.busy = False
        if view is not None:
            from app.tui.screens.job import JobScreen

            self.acted = True
            self.app.switch_screen(JobScreen(self.plan.job_id))

    async def action_discard(self) -> None:
        self.busy = True
        try:
            view = await self.call_engine(self.engine.discard(self.plan.job_id, principal=local()))
        finally:
            self.busy = False
        if view is not None:
            self.acted = True
            self.notify(f"Plan {self.plan.job_id} discarded.")
            self.app.pop_screen()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_export(self) -> None:
        folder = Path(self.pg.export_dir)
        path = folder / f"plan-{self.plan.job_id}.json"
        try:
            path.write_text(self.plan.model_dump_json(indent=2), encoding="utf-8")
        except OSError as exc:
            self.notify(f"Export failed: {exc.strerror}", severity="error")
            return
        self.notify(f"Plan exported to {path}")
