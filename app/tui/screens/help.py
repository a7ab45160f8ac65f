"""`?`: the keys of the screen underneath (also all in the command palette)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from app.tui.style import legend


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close")]

    def __init__(self, title: str, bindings: list[Binding]) -> None:
        super().__init__()
        self.title_text = title
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, expand=False, padding=(0, 2, 0, 0))
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("action")
        for b in self.bindings:
            table.add_row(b.key_display or b.key.replace("slash", "/"), b.description)
        table.add_row("ctrl+p", "Command palette (every action)")
        with VerticalScroll(id="help-box"):
            yield Static(Text(f"Keys: {self.title_text}", "bold"))
            yield Static(table)
            yield Static(Text("Grid cells: " + legend(), "bright_black"))
            yield Static(Text("escape closes", "bright_black"))

    def action_close(self) -> None:
        self.dismiss(None)
