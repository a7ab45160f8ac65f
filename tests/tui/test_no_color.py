"""NO_COLOR: Textual reads it when the App is constructed and adds its
monochrome filter, which needs a real Style on every segment a widget draws.
The demo's path (plan review, `y`, the per-unit grid) must keep drawing."""

from __future__ import annotations

import pytest

from app.commands.tui import plan_demo
from app.tui.screens.job import JobScreen
from app.tui.screens.plan import PlanReviewScreen
from app.tui.widgets.grid import UnitGrid
from tests.tui.conftest import sim_app
from tests.tui.helpers import screen_text, wait_for

pytestmark = pytest.mark.anyio


async def test_no_color_demo_shows_the_grid_after_confirmation(
    redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # read by App.__init__, so set before constructing
    app = sim_app(redis_url, prefix, use_sim=True, start=lambda e: plan_demo(e, 12), demo_units=12)
    assert app.no_color  # Textual's monochrome filter is on
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PlanReviewScreen))
        await wait_for(pilot, lambda: "to create" in screen_text(app))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.model)
        await wait_for(pilot, lambda: "COMPLETED" in screen_text(app), timeout=60)
        grid = app.screen.query_one(UnitGrid)
        rows = grid.region.height
        assert rows > 2
        text = screen_text(app)
        assert "unit" in text and "101" in text and "112" in text
        assert "✓" in text
    # an exception in a render ends run_test's app with the error; none was raised
    assert app.return_code in (0, None)
