"""Snapshot tests (baselines in the top-level `snapshots/`): plan review, job
screen mid-run and finished, unit detail and help, at 80x24 and 160x50.

Deterministic: synthetic workflows with no I/O, a frozen engine clock, a fixed
job id, and each picture taken only once the job has reached a known state.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.tui import PhasegridApp
from app.tui.screens.job import JobScreen
from app.tui.screens.plan import PlanReviewScreen
from app.tui.synthetic import DEMO_WORKFLOW, SynthControl, synthetic_specs, synthetic_units
from engine import Registry
from tests.tui.conftest import FIXED_NOW, fixed_runtime
from tests.tui.helpers import screen_text, wait_for

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
JOB_ID = "snapjob00001"


def make_app(
    redis_url: str, prefix: str, control: SynthControl, *, confirm: bool, units: int = 12
) -> PhasegridApp:
    registry = Registry(synthetic_specs(control))

    def factory() -> Any:
        return fixed_runtime(redis_url, prefix, registry, max_in_flight=64)

    async def start(engine: Any) -> str:
        items = synthetic_units(units)
        plan = await engine.plan(DEMO_WORKFLOW, items, {}, title="Snapshot job", job_id=JOB_ID)
        if confirm:
            await engine.confirm(plan.job_id, plan.digest)
        return plan.job_id

    return PhasegridApp(
        factory, start=start, simulated=True, clock=lambda: FIXED_NOW, refresh_hz=20.0
    )


async def settled(pilot: Any, predicate: Any) -> None:
    """Wait until the job screen shows a view satisfying `predicate` and no
    events are pending, then let one more batch and repaint go through."""
    app = pilot.app

    def ready() -> bool:
        s = app.screen
        return (
            isinstance(s, JobScreen)
            and s.view is not None
            and s.grid is not None
            and predicate(s.view)
            and not s.pending
        )

    await wait_for(pilot, ready, 30)
    screen = app.screen
    await screen.tick()
    await pilot.pause(0.1)
    await screen.tick()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_plan_review(snap_compare: Any, redis_url: str, prefix: str, size: Any) -> None:
    app = make_app(redis_url, prefix, SynthControl(), confirm=False)

    async def run_before(pilot: Any) -> None:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PlanReviewScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_job_mid_run(snap_compare: Any, redis_url: str, prefix: str, size: Any) -> None:
    control = SynthControl()
    control.hold_phases = {"assign_aps"}  # every unit stops there, running
    control.fail_once = {("104", "network")}
    app = make_app(redis_url, prefix, control, confirm=True)

    def mid(view: Any) -> bool:
        # 11 units held in assign_aps + unit 104's failure/blocks: nothing else moves
        return (
            view.transitions_done == 1 + 11 * 6 + 5 + 3 and view.units_by_state.get("running") == 11
        )

    async def run_before(pilot: Any) -> None:
        await settled(pilot, mid)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def _finished(view: Any) -> bool:
    return view.status.terminal


@pytest.mark.parametrize("size", SIZES)
def test_job_finished(snap_compare: Any, redis_url: str, prefix: str, size: Any) -> None:
    control = SynthControl()
    control.fail_once = {("104", "network")}
    app = make_app(redis_url, prefix, control, confirm=True)

    async def run_before(pilot: Any) -> None:
        await settled(pilot, _finished)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_unit_detail(snap_compare: Any, redis_url: str, prefix: str, size: Any) -> None:
    control = SynthControl()
    control.fail_once = {("104", "network")}
    app = make_app(redis_url, prefix, control, confirm=True)

    async def run_before(pilot: Any) -> None:
        await settled(pilot, _finished)
        await pilot.press("f", "enter")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "UnitDetailScreen")
        await wait_for(pilot, lambda: "already in use" in screen_text(pilot.app))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: Any, redis_url: str, prefix: str, size: Any) -> None:
    app = make_app(redis_url, prefix, SynthControl(), confirm=True)

    async def run_before(pilot: Any) -> None:
        await settled(pilot, _finished)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
