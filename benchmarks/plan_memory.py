"""Peak memory of planning `per_unit_dpsk` against the in-process simulator.

Each size is planned in its own subprocess (so one peak does not hide the
next), on a fresh embedded Redis, with the simulator's `instant` profile and
every unit's APs present in the venue. Reports the process's peak RSS before
and after `Engine.plan`, the time, the stored plan's size and Redis's memory.

    python -m benchmarks.plan_memory [--units 10000 100000]

Last line: `plan_peak_rss_mb=<units>:<MB>,...`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def measure(n: int) -> dict[str, float]:
    from app.runtime import RuntimeSettings, open_runtime
    from engine import EngineConfig
    from workflows.inputs.samples import sample_units

    units = sample_units(n, aps_per_unit=1)
    serials = [s for u in units for s in u.ap_serials]
    settings = RuntimeSettings(
        data_dir=Path(tempfile.mkdtemp(prefix="pg-planmem-")),
        sim_profile="instant",
        sim_extra_serials=serials,
        worker=False,
        engine=EngineConfig(prefix="planmem"),
    )
    async with open_runtime(settings) as rt:
        before = peak_rss_mb()
        t0 = time.perf_counter()
        plan = await rt.engine.plan("per_unit_dpsk", units, {"venue": "Sim Venue"})
        seconds = time.perf_counter() - t0
        after = peak_rss_mb()
        plan_bytes = await rt.redis.strlen(rt.engine.store.job(plan.job_id).plan)
        info = await rt.redis.info("memory")
        await rt.engine.discard(plan.job_id)
    return {
        "units": n,
        "conflicts": plan.summary.conflicts,
        "seconds": round(seconds, 1),
        "rss_before_mb": round(before),
        "peak_rss_mb": round(after),
        "plan_mb": round(plan_bytes / 2**20, 1),
        "redis_used_mb": round(int(info["used_memory"]) / 2**20),
    }


def child(n: int) -> None:
    print(json.dumps(anyio.run(measure, n)))


def main(sizes: list[int]) -> None:
    peaks = []
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.plan_memory", "--child", str(n)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{n:>7} units: peak RSS {row['peak_rss_mb']} MB (before plan {row['rss_before_mb']}"
            f" MB), {row['seconds']} s, plan {row['plan_mb']} MB, redis {row['redis_used_mb']}"
            f" MB, conflicts {row['conflicts']}"
        )
        peaks.append(f"{n}:{row['peak_rss_mb']}")
    print("plan_peak_rss_mb=" + ",".join(peaks))


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
    else:
        main(args.units)


if __name__ == "__main__":
    cli()
