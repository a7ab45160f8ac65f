"""`phasegrid serve`'s simulator holds the shipped samples' APs: the README's sample
plans without "AP not in venue" conflicts and without `--sim-extra-serials`."""

from __future__ import annotations

import pytest

from app.cli import build_parser
from app.commands.serve import runtime_settings
from app.runtime import open_runtime
from workflows.inputs.samples import sample_path
from workflows.loaders import load_unit_list

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("sample", ["units_48.csv", "units_per_ap.csv"])
async def test_a_plain_serve_plans_the_shipped_samples_without_conflicts(
    sample, redis_url, tmp_path
):
    args = build_parser().parse_args(["--redis-url", redis_url, "serve"])
    settings = runtime_settings(args).model_copy(update={"data_dir": tmp_path, "worker": False})
    units = load_unit_list(str(sample_path(sample)))
    async with open_runtime(settings) as rt:
        plan = await rt.engine.plan("per_unit_dpsk", [u.model_dump() for u in units], {})
    assert plan.summary.conflicts == 0, plan.summary.headline()
    assert plan.summary.units == len(units)


def test_extra_serials_are_added_to_the_samples_once():
    args = build_parser().parse_args(["serve", "--sim-extra-serials", " X1,921000000001, X2"])
    serials = runtime_settings(args).sim_extra_serials
    assert serials[-2:] == ["X1", "X2"]
    assert serials.count("921000000001") == 1 and len(serials) == 96 + 2
