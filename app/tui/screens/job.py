"""The live job screen: header, phase graph, per-unit grid and event log.

Engine events are read by one background follower into a plain list; a timer
applies them in batches a few times a second (grid rows repainted by region,
graph and header redrawn once per batch), so 2,000 state changes per second
cost a handful of repaints, not 2,000 messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, RichLog, Static

from app.tui.model import GridModel
from app.tui.screens.base import BaseScreen
from app.tui.style import GLYPH, legend
from app.tui.widgets.graph import PhaseGraph
from app.tui.widgets.grid import UnitGrid
from app.tui.widgets.header import Banner, header_text
from rpc.principal import local

LOG_EVENTS_PER_TICK = 40
REPLAY_LIMIT = 20_000
RESYNC_EVENTS = {"job_status", "job_started", "job_finished", "job_confirmed"}


def event_line(ev: Any, t0: float) -> Text | None:
    ts = max(0.0, ev.ts - t0)
    m, s = divmod(int(ts), 60)
    t = Text(f"+{m:02d}:{s:02d} ", "bright_black")
    where = f"{ev.unit or 'global'}/{ev.phase}" if hasattr(ev, "phase") and ev.phase else ""
    kind = ev.type
    if kind == "phase_failed":
        t.append(f"{GLYPH[4]} {where} failed: ", "bold red")
        t.append(ev.error, "red")
    elif kind == "phase_retrying":
        t.append(f"↻ {where} retry {ev.attempt}: {ev.error}", "yellow")
    elif kind == "phase_blocked":
        t.append(f"{GLYPH[6]} {where} blocked by {ev.by}", "yellow")
    elif kind == "rate_limited":
        t.append("429 rate limited" + (f" ({where})" if where else ""), "yellow")
    elif kind in ("phase_succeeded", "phase_started") and ev.unit is None:
        verb = "done" if kind == "phase_succeeded" else "started"
        t.append(f"◆ {ev.phase} {verb}", "green" if kind == "phase_succeeded" else "cyan")
    elif kind == "job_planned":
        t.append(ev.headline, "bold")
    elif kind == "job_confirmed":
        t.append("plan confirmed", "bold green")
    elif kind == "job_started":
        t.append("job started" + (" (resumed)" if ev.resumed else ""), "cyan")
    elif kind == "job_status":
        t.append(f"status {ev.status}" + (f": {ev.reason}" if ev.reason else ""), "cyan")
    elif kind == "job_finished":
        t.append(f"finished {ev.status}", "bold")
        if ev.error:
            t.append(f": {ev.error}", "red")
    elif kind == "cancel_requested":
        t.append(f"cancel requested ({ev.mode})", "magenta")
    elif kind == "log":
        t.append(ev.message, {"error": "red", "warning": "yellow"}.get(ev.level, ""))
    elif kind == "phase_cancelled" and ev.outcome_unknown:
        t.append(f"{GLYPH[7]} {where} cancelled, outcome unknown", "magenta")
    else:
        return None
    if getattr(ev, "principal", None):
        t.append(f"  by {ev.principal}", "bright_black")
    return t


class JobScreen(BaseScreen):
    BINDINGS = [
        Binding("c", "cancel", "Cancel", id="job.cancel"),
        Binding("C", "cancel_hard", "Hard cancel", id="job.cancel_hard", show=False),
        Binding("r", "retry", "Retry failed", id="job.retry"),
        Binding("x", "cleanup", "Cleanup", id="job.cleanup"),
        Binding("a", "audit", "Audit", id="job.audit"),
        Binding("l", "ledger", "Ledger", id="job.ledger", show=False),
        Binding("e", "export_results", "Export results", id="job.export_results", show=False),
        Binding("H", "handout", "Passphrase hand-out", id="job.handout", show=False),
        Binding("f", "filter_failed", "Failed only", id="job.filter"),
        Binding("slash", "search", "Search", id="job.search", key_display="/"),
        Binding("escape", "clear_filters", "Clear filter", show=False, id="job.clear"),
        Binding("q", "back", "Back", id="job.back"),
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.view: Any = None
        self.model: GridModel | None = None
        self.grid: UnitGrid | None = None
        self.graph: PhaseGraph | None = None
        self.pending: list[Any] = []
        self.failed_only = False
        self.search = ""
        self.t0 = 0.0
        self.needs_resync = False
        self.cancel_sent: str | None = None
        self.ticks = 0

    def compose(self) -> ComposeResult:
        if self.pg.simulated:
            yield Banner()
        yield Static("Loading job...", id="job-header")
        yield Vertical(id="graph-box")
        with Horizontal(id="job-body"):
            with Vertical(id="grid-box"):
                yield Static("", id="grid-status")
                yield Input(placeholder="search units (enter: apply, escape: clear)", id="search")
            yield RichLog(id="events", max_lines=500, wrap=False, markup=False, auto_scroll=True)
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.query_one("#events", RichLog).border_title = "events"
        await self._load()

    async def _load(self) -> None:
        engine = self.engine
        view = await self.call_engine(engine.get(self.job_id))
        if view is None:
            return
        self.view = view
        self.t0 = view.created_at
        desc = engine.describe(view.workflow)
        self.phase_titles = {n.id: n.title for n in desc.nodes}
        per_unit = [n.id for n in desc.nodes if n.per_unit]
        # Small jobs replay their whole event stream (the log shows the history);
        # big ones start from the newest event, their grid loaded from the unit pages.
        small = view.transitions_total <= REPLAY_LIMIT
        cursor = "0-0" if small else await engine.last_cursor(self.job_id)
        keys: list[str] = []
        pages = []
        offset = 0
        while True:
            page = await engine.units(self.job_id, offset=offset, limit=5000)
            pages.append(page.units)
            keys += [u.unit for u in page.units]
            offset += len(page.units)
            if not page.units or offset >= page.total:
                break
        model = GridModel(keys=keys, phases=per_unit)
        for units in pages:
            model.load_page(units)
        self.model = model
        self.graph = PhaseGraph(desc, id="graph")
        self.graph.set_progress(view.phases)
        await self.query_one("#graph-box", Vertical).mount(self.graph)
        self.grid = UnitGrid(model, id="grid")
        await self.query_one("#grid-box", Vertical).mount(self.grid, before="#grid-status")
        self.grid.focus()
        self._update_header()
        self._update_status()
        self.follow(cursor)
        self.set_interval(1.0 / self.pg.refresh_hz, self.tick)

    @work(exclusive=True, group="follow")
    async def follow(self, cursor: str) -> None:
        async for rec in self.engine.follow(self.job_id, after=cursor, block_ms=500):
            self.pending.append(rec.event)

    async def resync(self) -> None:
        model = self.model
        if model is None:
            return
        offset = 0
        while offset < model.n:
            page = await self.engine.units(self.job_id, offset=offset, limit=5000)
            if not page.units:
                break
            model.load_page(page.units)
            offset += len(page.units)
        self._refilter()
        if self.grid is not None:
            self.grid._cache.clear()
            self.grid.refresh()

    async def tick(self) -> None:
        """Apply the events gathered since the last tick, then redraw once."""
        if self.model is None or self.grid is None:
            return
        self.ticks += 1
        events, self.pending = self.pending, []
        resync = self.needs_resync
        self.needs_resync = False
        if events:
            changed = self.model.apply(events)
            if self.failed_only and changed:
                self._refilter()
            else:
                self.grid.rows_changed(changed)
            self._log(events)
            resync = resync or any(e.type in RESYNC_EVENTS for e in events)
        if resync:
            await self.resync()
        if events or resync or self.ticks % max(1, int(self.pg.refresh_hz)) == 0:
            view = await self.call_engine(self.engine.get(self.job_id))
            if view is not None:
                self.view = view
                if self.graph is not None:
                    self.graph.set_progress(view.phases)
                self._update_header()
                self._update_status()

    def _log(self, events: list[Any]) -> None:
        log = self.query_one("#events", RichLog)
        lines = []
        for ev in events:
            line = event_line(ev, self.t0)
            if line is not None:
                lines.append(line)
        extra = len(lines) - LOG_EVENTS_PER_TICK
        if extra > 0:
            lines = lines[-LOG_EVENTS_PER_TICK:]
            log.write(Text(f"... {extra} more", "bright_black"))
        for line in lines:
            log.write(line)

    def _update_header(self) -> None:
        if self.view is not None:
            wide = self.size.width >= 120
            self.query_one("#job-header", Static).update(header_text(self.view, wide))

    def _update_status(self) -> None:
        if self.grid is None or self.model is None:
            return
        t = Text()
        filters = []
        if self.failed_only:
            filters.append("failed only")
        if self.search:
            filters.append(f"search {self.search!r}")
        t.append(f"{self.grid.rows}/{self.model.n} units", "bold")
        if filters:
            t.append(" [" + ", ".join(filters) + "]", "yellow")
        col = self.grid.cursor_col
        if self.model.p:
            pid = self.model.phases[col]
            t.append(f"  col {col + 1}: {self.phase_titles.get(pid, pid)}", "bright_black")
        if self.size.width >= 120:
            t.append("   " + legend(), "bright_black")
        self.query_one("#grid-status", Static).update(t)

    def on_unit_grid_moved(self, _msg: UnitGrid.Moved) -> None:
        self._update_status()

    def on_resize(self) -> None:
        self._update_header()
        self._update_status()

    # -- filters ---------------------------------------------------------------------

    def _refilter(self) -> None:
        if self.model is None or self.grid is None:
            return
        if not self.failed_only and not self.search:
            if self.grid.view is not None:
                self.grid.set_view(None)
            self._update_status()
            return
        rows = sorted(self.model.bad_rows) if self.failed_only else range(self.model.n)
        needle = self.search.lower()
        keys = self.model.keys
        view = [r for r in rows if needle in keys[r].lower()] if needle else list(rows)
        self.grid.set_view(view)
        self._update_status()

    def action_filter_failed(self) -> None:
        self.failed_only = not self.failed_only
        self._refilter()

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.value = self.search
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.search = event.value.strip()
            self._refilter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            event.input.display = bool(self.search)
            if self.grid is not None:
                self.grid.focus()

    def action_clear_filters(self) -> None:
        box = self.query_one("#search", Input)
        box.display = False
        self.search = ""
        self.failed_only = False
        self._refilter()
        if self.grid is not None:
            self.grid.focus()

    # -- actions ------------------------------------------------------------------------

    def on_unit_grid_open(self, msg: UnitGrid.Open) -> None:
        from app.tui.screens.unit import UnitDetailScreen

        self.app.push_screen(UnitDetailScreen(self.job_id, msg.unit))

    async def action_cancel(self) -> None:
        hard = self.cancel_sent is not None
        await self._cancel(hard)

    async def action_cancel_hard(self) -> None:
        await self._cancel(True)

    async def _cancel(self, hard: bool) -> None:
        view = await self.call_engine(self.engine.cancel(self.job_id, hard=hard, principal=local()))
        if view is not None:
            self.cancel_sent = "hard" if hard else "graceful"
            msg = (
                "Hard cancel: in-flight work recorded as outcome-unknown."
                if hard
                else "Cancelling gracefully: nothing new starts. Press c again to cancel hard."
            )
            self.notify(msg, severity="warning")
            self.needs_resync = True

    async def action_retry(self) -> None:
        view = await self.call_engine(self.engine.retry(self.job_id, principal=local()))
        if view is not None:
            self.cancel_sent = None
            self.notify("Retrying failed, blocked and cancelled units.")
            self.needs_resync = True

    async def action_cleanup(self) -> None:
        plan = await self.call_engine(self.engine.cleanup(self.job_id, principal=local()))
        if plan is not None:
            from app.tui.screens.plan import PlanReviewScreen

            self.app.push_screen(PlanReviewScreen(plan))

    async def action_audit(self) -> None:
        report = await self.call_engine(self.engine.audit(self.job_id))
        if report is not None:
            from app.tui.screens.unit import AuditScreen

            self.app.push_screen(AuditScreen(report))

    async def action_ledger(self) -> None:
        entries = await self.call_engine(self.engine.ledger(self.job_id))
        if entries is not None:
            from app.tui.screens.outputs import LedgerScreen

            self.app.push_screen(LedgerScreen(self.job_id, entries))

    async def action_export_results(self) -> None:
        from app.tui.screens.outputs import export_results

        try:
            path = await export_results(self.engine, self.job_id, Path(self.pg.export_dir))
        except OSError as exc:
            self.notify(f"export failed: {exc}", severity="error")
            return
        self.notify(f"Results exported to {path}")

    async def action_handout(self) -> None:
        from app.tui.screens.outputs import export_handout

        folder = Path(self.pg.export_dir)
        try:
            text = await self.call_engine(export_handout(self.app.runtime, self.job_id, folder))
        except Exception as exc:  # R1 unreachable, a file error: say what, never a secret
            self.notify(f"hand-out failed: {type(exc).__name__}", severity="error")
            return
        if text is not None:
            self.notify(text, timeout=10)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()
