"""The jobs screen: every job in Redis (including other processes' jobs), live."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from app.tui.screens.base import BaseScreen
from app.tui.style import STATUS_COLOR, fmt_age
from app.tui.widgets.header import Banner


def progress_bar(done: int, failed: int, total: int, width: int = 12) -> Text:
    t = Text()
    if not total:
        return t.append("░" * width, "bright_black")
    d = int(width * done / total)
    f = min(width - d, round(width * failed / total)) if failed else 0
    t.append("█" * d, "green")
    t.append("▓" * f, "red")
    t.append("░" * (width - d - f), "bright_black")
    return t


class JobsScreen(BaseScreen):
    BINDINGS = [
        Binding("enter", "open_job", "Open", id="jobs.open"),
        Binding("n", "new_job", "New job", id="jobs.new"),
        Binding("g", "refresh", "Refresh", id="jobs.refresh"),
        Binding("q", "app.quit", "Quit", id="jobs.quit"),
    ]

    def compose(self) -> ComposeResult:
        if self.pg.simulated:
            yield Banner()
        yield Static("Jobs", id="jobs-title", classes="screen-title")
        table: DataTable = DataTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="jobs-empty")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#jobs-table", DataTable)
        for label, key in (
            ("job", "id"),
            ("workflow", "workflow"),
            ("status", "status"),
            ("progress", "progress"),
            ("done", "done"),
            ("failed", "failed"),
            ("units", "units"),
            ("age", "age"),
        ):
            table.add_column(label, key=key)
        self.set_interval(1.0, self.refresh_jobs)
        self.call_after_refresh(self.refresh_jobs)

    async def refresh_jobs(self) -> None:
        if self.pg.engine is None:
            self.query_one("#jobs-empty", Static).update(self.pg.status_line)
            return
        jobs = await self.call_engine(self.engine.list_jobs(limit=200))
        if jobs is None:
            return
        table = self.query_one("#jobs-table", DataTable)
        now = self.pg.clock()
        keep = table.cursor_row
        table.clear()
        for j in jobs:
            status = j.status.value
            table.add_row(
                j.id,
                j.workflow,
                Text(status, STATUS_COLOR.get(status, "")),
                progress_bar(j.units_done, j.units_failed, j.units_total),
                str(j.units_done),
                Text(str(j.units_failed), "red" if j.units_failed else ""),
                str(j.units_total),
                fmt_age(now - j.created_at),
                key=j.id,
            )
        if jobs:
            table.move_cursor(row=min(keep, len(jobs) - 1))
        self.query_one("#jobs-empty", Static).update(
            "" if jobs else "No jobs yet. Press n to plan one."
        )

    def action_refresh(self) -> None:
        self.run_worker(self.refresh_jobs(), exclusive=True, group="jobs")

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            await self.pg.open_job(event.row_key.value)

    async def action_open_job(self) -> None:
        table = self.query_one("#jobs-table", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key:
                await self.pg.open_job(key)

    def action_new_job(self) -> None:
        from app.tui.screens.new_job import NewJobScreen

        if self.pg.engine is not None:
            self.app.push_screen(NewJobScreen())
