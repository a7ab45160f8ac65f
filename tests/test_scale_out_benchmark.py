"""`python -m benchmarks.scale_out --quick` runs end to end: real processes, every job
COMPLETED, no duplicate create, and the output the acceptance reads (its speed is
the benchmark's to report, not a test's to assert)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.envs import child_env

ROOT = Path(__file__).resolve().parents[1]
RUN = re.compile(
    r"workers=(\d) \(\1 per tenant\) completed=4 duplicate_creates=0 makespan=[\d.]+s "
    r"calls=\d+ cells=(\d+) cells_per_s=\d+ cpu_s: workers=[\d.]+ sims=[\d.]+ "
    r"redis=[\d.]+ \(avg [\d.]+ cores\) jobs_per_worker=([\d/]+) speedup=\d+\.\d\d"
)


def test_quick_scale_out_runs_every_job_on_1_2_and_4_workers() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale_out", "--quick"],
        cwd=ROOT, env=child_env(PYTHONPATH=str(ROOT)), capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("scale_out: 4 jobs x 3 units of per_unit_dpsk, 1 tenant(s)")
    runs = [RUN.fullmatch(line) for line in lines[1:4]]
    assert all(runs), lines
    assert [m.group(1) for m in runs if m] == ["1", "2", "4"]
    cells = {m.group(2) for m in runs if m}
    assert len(cells) == 1 and int(cells.pop()) > 0  # the same work each time
    for m in runs:  # every job ran on one of the fleet's workers
        assert m is not None and sum(map(int, m.group(3).split("/"))) == 4
        assert len(m.group(3).split("/")) <= int(m.group(1))
    assert re.fullmatch(r"scale_out_2_workers=\d+\.\d\d", lines[4])
    assert re.fullmatch(r"scale_out_4_workers=\d+\.\d\d", lines[5])
    assert len(lines) == 6
