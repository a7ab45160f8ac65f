"""Shared screen plumbing: the SIMULATED banner, engine error reporting and the
bindings every screen offers to the command palette and the help screen."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.binding import Binding
from textual.screen import Screen

from engine.backoff import store_unavailable
from engine.errors import PhasegridError

if TYPE_CHECKING:
    from app.tui.app import PhasegridApp

T = TypeVar("T")


class BaseScreen(Screen):
    BINDINGS = [Binding("question_mark", "app.help", "Keys", id="help", key_display="?")]

    @property
    def pg(self) -> PhasegridApp:
        return self.app  # type: ignore[return-value]

    @property
    def engine(self) -> Any:
        return self.pg.engine

    async def call_engine(self, coro: Awaitable[T]) -> T | None:
        """Await an engine call; an engine error (Redis unreachable included) becomes a
        notification (safe text)."""
        try:
            with store_unavailable():
                return await coro
        except PhasegridError as exc:
            self.notify(str(exc), title=exc.kind.replace("_", " "), severity="error", timeout=8)
            return None

    def palette_bindings(self) -> list[Binding]:
        """The actions this screen offers (command palette and help)."""
        out: list[Binding] = []
        seen: set[str] = set()
        for b in self._merged_bindings_list():
            if b.id and b.description and b.action not in seen:
                seen.add(b.action)
                out.append(b)
        return out

    def _merged_bindings_list(self) -> list[Binding]:
        out: list[Binding] = []
        for cls in type(self).__mro__:
            for b in cls.__dict__.get("BINDINGS", []):
                if isinstance(b, Binding):
                    out.append(b)
        for node in [self.focused] if self.focused is not None else []:
            for cls in type(node).__mro__:
                for b in cls.__dict__.get("BINDINGS", []):
                    if isinstance(b, Binding):
                        out.append(b)
        return out
