"""The phasegrid Textual app.

The app owns its runtime: `runtime_factory()` is an async context manager
yielding an object with `.engine` (and `.simulated`), entered and left in one
background task of the app's own event loop. Screens only use the engine's
public API and its event stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from app.tui.screens.base import BaseScreen
from app.tui.screens.help import HelpScreen
from app.tui.screens.jobs import JobsScreen

RuntimeFactory = Callable[[], AbstractAsyncContextManager[Any]]
StartHook = Callable[[Any], Awaitable[str | None]]


class PhasegridApp(App[int]):
    CSS_PATH = "phasegrid.tcss"
    TITLE = "phasegrid"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False, id="app.quit")]

    def __init__(
        self,
        runtime_factory: RuntimeFactory,
        *,
        start: StartHook | None = None,
        simulated: bool = False,
        clock: Callable[[], float] = time.time,
        refresh_hz: float = 4.0,
        export_dir: str = ".",
        workflow: str | None = None,
    ) -> None:
        super().__init__()
        self.runtime_factory = runtime_factory
        self.start_hook = start
        self.simulated = simulated
        self.clock = clock
        self.refresh_hz = refresh_hz
        self.export_dir = export_dir
        self.preferred_workflow = workflow
        self.engine: Any = None
        self.runtime: Any = None
        self.status_line = "Connecting to Redis..."
        self.ready = asyncio.Event()
        self.failed: str | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- runtime ----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(JobsScreen())
        self._task = asyncio.create_task(self._run_runtime())

    async def _run_runtime(self) -> None:
        try:
            async with self.runtime_factory() as rt:
                self.runtime = rt
                self.engine = rt.engine
                self.simulated = self.simulated or bool(getattr(rt, "simulated", False))
                job = await self.start_hook(rt.engine) if self.start_hook else None
                self.ready.set()
                self.call_later(self._runtime_ready, job)
                await self._stop.wait()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown to the user, never a traceback
            self.failed = f"{type(exc).__name__}: {exc}"
            self.status_line = f"Cannot start: {exc}"
            self.ready.set()
            self.call_later(self.exit, 1, message=f"phasegrid: {exc}")
        finally:
            self.engine = None

    async def _runtime_ready(self, job: str | None) -> None:
        screen = self.screen
        if isinstance(screen, JobsScreen):
            await screen.refresh_jobs()
        if job:
            await self.open_job(job)

    async def on_unmount(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 10)
            except (TimeoutError, Exception):
                self._task.cancel()

    # -- navigation ---------------------------------------------------------------------

    async def open_job(self, job_id: str) -> None:
        from app.tui.screens.job import JobScreen
        from app.tui.screens.plan import PlanReviewScreen

        screen = self.screen
        if not isinstance(screen, BaseScreen):
            return
        view = await screen.call_engine(self.engine.get(job_id))
        if view is None:
            return
        if view.status.value == "AWAITING_CONFIRMATION":
            plan = await screen.call_engine(self.engine.get_plan(job_id))
            if plan is not None:
                await self.push_screen(PlanReviewScreen(plan))
            return
        await self.push_screen(JobScreen(job_id))

    def default_workflow(self) -> str | None:
        names = [w.name for w in self.engine.workflows()] if self.engine else []
        if self.preferred_workflow in names:
            return self.preferred_workflow
        return names[0] if names else None

    # -- help and command palette -----------------------------------------------------------

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        bindings = screen.palette_bindings() if isinstance(screen, BaseScreen) else []
        title = type(screen).__name__.replace("Screen", "") or "screen"
        self.push_screen(HelpScreen(title, bindings))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if isinstance(screen, BaseScreen):
            for b in screen.palette_bindings():
                key = b.key_display or b.key
                yield SystemCommand(
                    b.description, f"key: {key}", partial(screen.run_action, b.action)
                )
        yield from super().get_system_commands(screen)
