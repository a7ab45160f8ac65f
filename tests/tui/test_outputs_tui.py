"""Pilot: a job's outputs from the job screen, driven by keys on a real
`per_unit_dpsk` job (in-process simulator, real Redis): the ledger view (l), the
results export (e) and the passphrase hand-out (H), all listed in `?`."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest

from app.commands.tui import plan_demo
from app.tui.screens.outputs import LedgerScreen
from app.tui.screens.plan import PlanReviewScreen
from engine.report import to_csv
from tests.tui.conftest import sim_app
from tests.tui.helpers import screen_text, wait_for
from tests.tui.test_flows import finished, job_screen
from workflows.inputs.samples import sample_units

pytestmark = pytest.mark.anyio
UNITS = 3


async def test_ledger_results_and_handout_from_the_job_screen(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    app = sim_app(redis_url, prefix, use_sim=True, demo_units=UNITS,
                  start=lambda e: plan_demo(e, UNITS), export_dir=str(tmp_path))  # fmt: skip
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PlanReviewScreen))
        await pilot.press("y")
        assert await finished(pilot, 60) == "COMPLETED"
        job = job_screen(app).job_id  # type: ignore[union-attr]

        await pilot.press("question_mark")
        await wait_for(pilot, lambda: "Keys: Job" in screen_text(app))
        for title in ("Ledger", "Export results", "Passphrase hand-out"):
            assert title in screen_text(app), title
        await pilot.press("escape")

        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LedgerScreen))
        await wait_for(pilot, lambda: f"Ledger of {job}" in screen_text(app))
        text = screen_text(app)
        ledger = await app.engine.ledger(job)
        assert f"{len(ledger)} entries" in text
        for unit in ("101", "102", "103"):
            assert unit in text
        assert "network" in text and "dpsk_pool" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: job_screen(app) is not None)

        await pilot.press("e")
        results = tmp_path / f"results-{job}.csv"
        await wait_for(pilot, lambda: results.exists())
        assert results.read_text(encoding="utf-8") == to_csv(await app.engine.results(job))

        await pilot.press("H")
        handout = tmp_path / f"passphrases-{job}.csv"
        await wait_for(pilot, lambda: handout.exists() and handout.stat().st_size > 0)
        assert stat.S_IMODE(handout.stat().st_mode) == 0o600
        rows = list(csv.DictReader(io.StringIO(handout.read_text(encoding="utf-8"))))
        wanted = {u.unit_number: u.ssid_password.get_secret_value()
                  for u in sample_units(UNITS)}  # fmt: skip
        assert {r["unit"]: r["passphrase"] for r in rows} == wanted
        told = await wait_for(pilot, lambda: [n.message for n in app._notifications
                                              if "passphrase(s) to" in n.message])  # fmt: skip
        assert told == [f"wrote {UNITS} passphrase(s) to {handout} (0600)"]
        for secret in wanted.values():
            assert secret not in screen_text(app)
            assert all(secret not in n.message for n in app._notifications)
