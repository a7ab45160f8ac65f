"""CI smoke of `python -m benchmarks.makespan --quick`: a real subprocess (its own
embedded Redis, in-process simulators) prints every line the issue asks for and
finds the contenders' end states the same. Nothing about speed is asserted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RATIOS = (
    "barrier_vs_phasegrid", "sequential_vs_phasegrid", "calls_vs_minimum",
    "polls_per_activity", "eta_ratio", "makespan_vs_bound",
)  # fmt: skip


def test_quick_run_prints_the_figures_and_same_end_states() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.makespan", "--quick"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    lines = out.strip().splitlines()
    for name in ("phasegrid", "barrier", "sequential"):
        line = next(ln for ln in lines if ln.startswith(f"{name}: makespan="))
        for field in ("R1-min", "writes=", "reads=", "polls=", "429s=", "time_scale=", "cpu/wall="):
            assert field in line, (name, field, line)
    assert any(ln.startswith("bound: makespan=") for ln in lines)
    assert "extrapolated linearly" in out  # the sequential contender says it ran a subset
    assert "end_state: barrier vs phasegrid on 6 unit(s): same" in lines
    assert "end_state: sequential vs phasegrid on 2 unit(s): same" in lines
    assert "end_states_match=yes" in lines
    assert re.search(r"same_draws: [1-9]\d* subjects .* 0 with different durations", out)
    values = dict(ln.split("=", 1) for ln in lines[-len(RATIOS) :])
    assert list(values) == list(RATIOS), lines[-len(RATIOS) :]
    assert all(float(v) >= 0 for v in values.values())
    assert lines[-1].startswith("makespan_vs_bound=")
