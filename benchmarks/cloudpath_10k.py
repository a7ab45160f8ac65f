"""A 10,000-passphrase Cloudpath migration against the simulator's `realistic`
profile (time scale 1/60) on embedded Redis.

    python -m benchmarks.cloudpath_10k [--passphrases N] [--time-scale S]

Prints the passphrase phase's R1 calls, calls per 100 passphrases, the
duration, and last `calls_per_100_passphrases=<N>`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import anyio

from app.runtime import RuntimeSettings, open_runtime
from engine import JobStatus
from workflows.inputs.samples import sample_cloudpath
from workflows.specs.cloudpath import cloudpath_job


async def main(n: int, time_scale: float) -> int:
    export = sample_cloudpath(n)
    units, options = cloudpath_job(export, include_revoked=True, network_name="Residents")
    settings = RuntimeSettings(
        data_dir=Path(tempfile.mkdtemp(prefix="pg-bench-")),
        sim_profile="realistic",
        sim_time_scale=time_scale,
    )
    async with open_runtime(settings) as rt:
        t0 = time.monotonic()
        plan = await rt.engine.plan("cloudpath_dpsk", units, options)
        planned = time.monotonic() - t0
        print(f"plan: {plan.summary.headline()} ({planned:.1f}s)")
        t1 = time.monotonic()
        await rt.engine.confirm(plan.job_id, plan.digest)
        view = await rt.engine.wait(plan.job_id, timeout=3600)
        duration = time.monotonic() - t1
        stats = rt.sim.stats()
    calls = int(view.metrics.get("r1_calls:passphrase", 0))
    per_100 = calls / n * 100
    print(f"status: {view.status} units: {view.units_by_state}")
    print(f"passphrases in the simulator: {stats['resources']['passphrases']}")
    print(
        f"job R1 calls: {int(view.metrics.get('r1_calls', 0))}, 429s: "
        f"{int(view.metrics.get('rate_limited', 0))}"
    )
    print(f"passphrase-phase R1 calls: {calls}")
    print(f"calls per 100 passphrases: {per_100:.3f}")
    print(f"duration: {duration:.1f}s (run), {planned:.1f}s (plan)")
    print(f"calls_per_100_passphrases={per_100:.3f}")
    return 0 if view.status == JobStatus.COMPLETED else 1


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passphrases", type=int, default=10_000)
    parser.add_argument("--time-scale", type=float, default=1 / 60)
    args = parser.parse_args()
    raise SystemExit(anyio.run(main, args.passphrases, args.time_scale))


if __name__ == "__main__":
    cli()
