"""`python -m benchmarks.eta [--quick]`: is the plan's duration estimate honest?

Runs the demo job the way an operator sees it (`phasegrid demo`: the 48 sample
units of `per_unit_dpsk` on the built-in simulator's demo profile, an embedded
Redis), takes the estimate the plan review shows, confirms, and times the run from
confirmation to the job's end. Prints, last, `eta_ratio=<estimate/actual>`
(target 0.8-1.25). `--quick` (6 units, fast profile) checks the harness only.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import anyio

from app.commands.tui import demo_ap_serials, demo_registry_factory, plan_demo
from app.runtime import RuntimeSettings, open_runtime
from engine.models import span


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.eta", description=__doc__)
    p.add_argument("--quick", action="store_true", help="6 units, fast profile (CI smoke)")
    p.add_argument("--units", type=int, default=None)
    p.add_argument("--profile", default=None, help="simulator profile (default: demo)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    args.units = args.units or (6 if args.quick else 48)
    args.profile = args.profile or ("fast" if args.quick else "demo")
    return args


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="phasegrid-eta-") as tmp:
        settings = RuntimeSettings(
            data_dir=Path(tmp),
            backend="sim",
            sim_profile=args.profile,
            sim_seed=args.seed,
            sim_extra_serials=demo_ap_serials(args.units),
        )
        async with open_runtime(settings, registry_factory=demo_registry_factory()) as rt:
            engine = rt.engine
            job_id = await plan_demo(engine, args.units, args.seed)
            plan = await engine.get_plan(job_id)
            s = plan.summary
            print(f"job: {plan.workflow}, {args.units} units, simulator profile {args.profile}")
            print(f"plan: {s.headline()}; {s.estimated_calls} calls; {s.estimate_text()}")
            started = time.monotonic()
            await engine.confirm(job_id, plan.digest)
            while not (view := await engine.wait(job_id, timeout=5.0)).status.terminal:
                print(f"  {view.status.value} {view.progress * 100:5.1f}% steps", flush=True)
            actual = time.monotonic() - started
    print(f"run: {view.status.value} in {span(actual)} ({actual:.1f} s) from confirmation")
    print(f"estimate: {s.estimated_seconds:.1f} s")
    print(f"eta_ratio={s.estimated_seconds / actual:.3f}")
    return 0 if view.status.value == "COMPLETED" else 1


def run(argv: list[str] | None = None) -> int:
    return anyio.run(main, parse(argv))


if __name__ == "__main__":
    raise SystemExit(run())
