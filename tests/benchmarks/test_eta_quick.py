"""CI smoke of `python -m benchmarks.eta --quick`: a real subprocess (its own embedded
Redis, the built-in simulator) plans the demo job, runs it to COMPLETED and prints,
last, `eta_ratio=`. Nothing about speed is asserted (the figure lives in the
benchmark's own output)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.envs import child_env

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_prints_the_estimate_the_run_and_eta_ratio_last() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.eta", "--quick"],
        cwd=ROOT, env=child_env(PYTHONPATH=str(ROOT)), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert any(ln.startswith("plan: Plan: ") and " calls; about " in ln for ln in lines), lines
    assert any(ln.startswith("run: COMPLETED in ") for ln in lines), lines
    assert re.fullmatch(r"eta_ratio=\d+\.\d{3}", lines[-1]), lines[-1]
