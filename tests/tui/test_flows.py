"""Pilot tests: the real app on a real engine, the real Redis and the
simulator backend, driven by keys like a user would."""

from __future__ import annotations

from typing import Any

import pytest

from app.commands.tui import plan_demo
from app.tui.screens.job import JobScreen
from app.tui.screens.plan import PlanReviewScreen, TypedConfirm
from app.tui.screens.unit import UnitDetailScreen
from app.tui.synthetic import DEMO_WORKFLOW, SynthControl, synthetic_units
from tests.tui.conftest import sim_app
from tests.tui.helpers import screen_text, wait_for

pytestmark = pytest.mark.anyio


def job_screen(app: Any) -> JobScreen | None:
    return app.screen if isinstance(app.screen, JobScreen) else None


def status_of(app: Any) -> str | None:
    s = job_screen(app)
    return s.view.status.value if s and s.view else None


async def finished(pilot: Any, timeout: float = 60) -> str:
    app = pilot.app
    await wait_for(
        pilot, lambda: status_of(app) in ("COMPLETED", "PARTIAL", "FAILED", "CANCELLED"), timeout
    )
    return status_of(app)  # type: ignore[return-value]


def planner(n: int = 12, **mutate: dict[str, Any]):
    async def start(engine: Any) -> str:
        units = synthetic_units(n)
        for unit, changes in mutate.items():
            for u in units:
                if u["unit_number"] == unit:
                    u.update(changes)
        plan = await engine.plan(DEMO_WORKFLOW, units, {}, title="test job")
        return plan.job_id

    return start


async def test_demo_plan_confirm_runs_to_completed(redis_url: str, prefix: str) -> None:
    """`phasegrid demo`'s path: plan review on screen, `y`, the job runs to COMPLETED."""
    app = sim_app(redis_url, prefix, use_sim=True, start=lambda e: plan_demo(e, 48))
    async with app.run_test(size=(120, 40)) as pilot:
        plan_screen = await wait_for(
            pilot, lambda: isinstance(app.screen, PlanReviewScreen) and app.screen
        )
        await wait_for(pilot, lambda: "Plan: " in screen_text(app))
        text = screen_text(app)
        assert "SIMULATED" in text
        assert "Plan: " in text and "to create" in text
        assert plan_screen.plan.summary.units == 48
        await pilot.press("y")
        assert await finished(pilot, 60) == "COMPLETED"
        screen = job_screen(app)
        assert screen is not None and screen.model is not None
        assert screen.model.n == 48
        await wait_for(pilot, lambda: "COMPLETED" in screen_text(app))
        assert "✓" in screen_text(app)


async def test_conflicts_block_confirmation(redis_url: str, prefix: str) -> None:
    start = planner(12, **{"107": {"conflict": ["dpsk_pool"]}})
    app = sim_app(redis_url, prefix, start=start)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, PlanReviewScreen) and app.screen
        )
        await wait_for(pilot, lambda: "1 conflict" in screen_text(app))
        assert "must be resolved" in screen_text(app)
        table = screen.query_one("#plan-table")
        assert table.coordinate_to_cell_key((1, 0)).row_key.value == "107"  # conflicts first
        await pilot.press("y")
        await pilot.pause(0.2)
        assert app.screen is screen
        view = await app.engine.get(screen.plan.job_id)
        assert view.status.value == "AWAITING_CONFIRMATION"
        assert any("conflict" in n.message for n in app._notifications)
        await pilot.press("n")  # discard
        await wait_for(pilot, lambda: not isinstance(app.screen, PlanReviewScreen))
        view = await app.engine.get(screen.plan.job_id)
        assert view.status.value == "DISCARDED"


async def test_typed_confirmation_for_cleanup(redis_url: str, prefix: str) -> None:
    app = sim_app(redis_url, prefix, start=planner(6))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PlanReviewScreen))
        await pilot.press("y")
        assert await finished(pilot) == "COMPLETED"
        await pilot.press("x")  # plan the cleanup (destructive)
        review = await wait_for(
            pilot, lambda: isinstance(app.screen, PlanReviewScreen) and app.screen
        )
        assert review.plan.summary.destructive
        assert "DESTRUCTIVE" in screen_text(app)
        await pilot.press("y")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirm) and app.screen)
        await pilot.press(*"Wrong", "enter")
        await pilot.pause(0.1)
        assert app.screen is modal and "does not match" in screen_text(app)
        modal.query_one("#typed-input").value = ""
        await pilot.press(*"Sim Venue", "enter")
        await wait_for(pilot, lambda: job_screen(app) is not None)
        assert job_screen(app).job_id == review.plan.job_id
        assert await finished(pilot) == "COMPLETED"


async def test_cancel_graceful_then_hard(redis_url: str, prefix: str) -> None:
    control = SynthControl()
    control.hold_phases = {"dpsk_pool"}
    app = sim_app(redis_url, prefix, control=control, start=planner(8))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PlanReviewScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: status_of(app) == "RUNNING")
        screen = job_screen(app)
        await wait_for(pilot, lambda: screen.view.units_by_state.get("running", 0) > 0)
        await pilot.press("c")
        await wait_for(pilot, lambda: screen.view.cancel_requested == "graceful")
        assert status_of(app) == "RUNNING"  # in-flight work lands first
        await pilot.press("c")  # a second c cancels hard
        assert await finished(pilot) == "CANCELLED"
        await wait_for(pilot, lambda: "CANCELLED" in screen_text(app))


async def test_retry_after_injected_failure_filter_and_unit_detail(
    redis_url: str, prefix: str
) -> None:
    control = SynthControl()
    control.fail_once = {("104", "network")}
    app = sim_app(redis_url, prefix, control=control, start=planner(12))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PlanReviewScreen))
        await pilot.press("y")
        assert await finished(pilot) == "PARTIAL"
        screen = job_screen(app)
        assert "✗" in screen_text(app)
        await pilot.press("f")  # failed only
        await wait_for(pilot, lambda: screen.grid.rows == 1)
        assert screen.grid.current_unit == "104"
        assert "1/12 units" in screen_text(app)
        await pilot.press("enter")
        detail = await wait_for(
            pilot, lambda: isinstance(app.screen, UnitDetailScreen) and app.screen
        )
        await wait_for(pilot, lambda: "already in use" in screen_text(app))
        text = screen_text(app)
        assert "Unit 104" in text and "failed" in text and "blocked" in text
        assert "••••" in text  # the passphrase stays masked
        await pilot.press("s")
        await wait_for(pilot, lambda: "xGMgyDwRSpMG" in screen_text(app))
        assert "••••" not in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert detail is not app.screen
        await pilot.press("escape")  # clear the filter
        await wait_for(pilot, lambda: screen.grid.rows == 12)
        await pilot.press("slash", *"11", "enter")
        await wait_for(pilot, lambda: screen.grid.rows == 3)  # 110, 111, 112
        await pilot.press("escape")
        await pilot.press("r")  # retry the failed unit
        await wait_for(pilot, lambda: status_of(app) not in ("PARTIAL",), 30)
        assert await finished(pilot) == "COMPLETED"
        await wait_for(pilot, lambda: not screen.model.bad_rows)


async def test_palette_lists_job_actions_and_help(redis_url: str, prefix: str) -> None:
    app = sim_app(redis_url, prefix, start=planner(3))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PlanReviewScreen))
        await pilot.press("y")
        await finished(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for action in ("Cancel", "Retry failed", "Cleanup", "Audit", "Failed only", "Search"):
            assert action in titles
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: "Keys: Job" in screen_text(app))
        assert "Retry failed" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("a")  # audit
        await wait_for(pilot, lambda: "Audit of" in screen_text(app))


@pytest.mark.parametrize("sample", ["units_per_ap.csv", "cloudpath_300.json"])
async def test_new_job_form_plans_a_file_through_the_workflows_loader(
    redis_url: str, prefix: str, sample: str
) -> None:
    """`n`: pick the workflow, type the input path, plan: the plan review opens."""
    from textual.widgets import Input, Select

    from app.tui.screens.new_job import NewJobScreen
    from workflows.inputs.samples import sample_path

    workflow = "cloudpath_dpsk" if sample.startswith("cloudpath") else "per_unit_dpsk"
    app = sim_app(redis_url, prefix, use_sim=True, demo_units=48)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.engine is not None and app.ready.is_set())
        await pilot.press("n")
        form = await wait_for(pilot, lambda: isinstance(app.screen, NewJobScreen) and app.screen)
        form.query_one("#workflow", Select).value = workflow
        await pilot.pause()
        path = form.query_one("#path", Input)
        path.value = str(sample_path(sample))
        path.focus()
        await pilot.press("enter")
        review = await wait_for(
            pilot, lambda: isinstance(app.screen, PlanReviewScreen) and app.screen, timeout=60
        )
        assert review.plan.workflow == workflow
        assert (
            review.plan.summary.units == {"units_per_ap.csv": 6, "cloudpath_300.json": 300}[sample]
        )
        assert "Plan: " in screen_text(app)


async def test_venue_cleanup_needs_the_venue_name_typed(redis_url: str, prefix: str) -> None:
    """The real `venue_cleanup` on the simulator: `y` opens the typed confirmation."""

    async def start(engine: Any) -> str:
        demo = await plan_demo(engine, 4)
        await engine.confirm(demo, (await engine.get_plan(demo)).digest)
        assert (await engine.wait(demo, timeout=60)).status.value == "COMPLETED"
        plan = await engine.plan("venue_cleanup", [], {"venue": "Sim Venue", "name_pattern": "10*"})
        return plan.job_id

    app = sim_app(redis_url, prefix, use_sim=True, demo_units=4, start=start)
    async with app.run_test(size=(120, 40)) as pilot:
        review = await wait_for(
            pilot, lambda: isinstance(app.screen, PlanReviewScreen) and app.screen, timeout=60
        )
        assert review.plan.workflow == "venue_cleanup" and review.plan.summary.destructive
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirm))
        await pilot.press("escape")  # not typed: nothing happens
        await wait_for(pilot, lambda: app.screen is review)
        assert (await app.engine.get(review.plan.job_id)).status.value == "AWAITING_CONFIRMATION"
        before = app.runtime.sim.stats()["resources"]
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirm))
        await pilot.press(*"Sim Venue", "enter")
        await wait_for(pilot, lambda: job_screen(app) is not None)
        assert await finished(pilot) == "COMPLETED"
        after = app.runtime.sim.stats()["resources"]
        assert before["wifiNetworks"] == before["dpskServices"] == 4
        assert after["wifiNetworks"] == after["dpskServices"] == after["identityGroups"] == 0
