"""`python -m benchmarks.makespan [--quick]`: W500 by phasegrid, a phase barrier and
a sequential loop, against the lower bound (see README_SNIPPET.md).

Exits 1 when the contenders' end states differ (by names) or one is incomplete.
"""

from __future__ import annotations

import argparse
import sys
import time

import anyio

from benchmarks.makespan.bound import check_same_draws, lower_bound
from benchmarks.makespan.contenders import run_barrier, run_phasegrid, run_sequential
from benchmarks.makespan.report import bound_line, contender_line, ratios
from benchmarks.makespan.state import differences
from benchmarks.makespan.workload import minimum_writes, wants, workload
from workflows.sim.ratelimit import rate_limit_info

FULL = {"units": 500, "passphrases": 20, "phasegrid_scale": 0.1, "barrier_scale": 0.01,
        "barrier_units": 500, "sequential_scale": 1 / 300, "sequential_units": 25}  # fmt: skip
"""Measured on 2 cores (CPU/wall in the output): phasegrid 0.58 at 1/10 (11.62 R1-min;
11.27 at 1/5, 0.32), barrier 0.34 at 1/100 (100 units: 61.6 R1-min vs 60.9 at 1/30),
sequential 0.06 at 1/300. A barrier run on fewer units (`--barrier-units`) is
extrapolated by waves and overestimates (each phase's tail is counted again)."""
QUICK = {"units": 6, "passphrases": 3, "phasegrid_scale": 0.002, "barrier_scale": 0.002,
         "barrier_units": 6, "sequential_scale": 0.002, "sequential_units": 2}  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.makespan", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a few units in seconds (CI smoke)")
    p.add_argument("--seed", type=int, default=7)
    for key in FULL:
        p.add_argument("--" + key.replace("_", "-"), type=float if "scale" in key else int)
    args = p.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def incomplete(state: dict[str, dict[str, object]]) -> list[str]:
    """Units missing their network, pool or AP placement (a contender that did nothing
    would otherwise match another that did nothing)."""
    return [u for u, s in state.items()
            if s["network"] is None or s["pool"] is None or None in s["ap_groups"].values()]  # type: ignore[operator]  # fmt: skip


async def main(args: argparse.Namespace) -> int:
    started = time.monotonic()
    work = workload(args.units, args.passphrases, args.seed)
    print(
        f"workload W{args.units}: per_unit_dpsk, {args.units} units x 2 APs, "
        f"{args.passphrases} passphrases per unit, LAN port 2 per AP, venue 'Sim Venue'; "
        f"simulator profile realistic, seed {args.seed}, rate limit 100/s per family "
        f"(burst 200); makespans in R1 time (real seconds / time scale)",
        flush=True,
    )
    pg = await run_phasegrid(work, args.phasegrid_scale)
    print(contender_line(pg), flush=True)
    barrier = await run_barrier(
        work.head(min(args.barrier_units, args.units)), args.barrier_scale, args.units
    )
    print(contender_line(barrier), flush=True)
    seq = await run_sequential(
        work.head(min(args.sequential_units, args.units)), args.sequential_scale, args.units
    )
    print(contender_line(seq), flush=True)

    cfg = work.sim_config(args.phasegrid_scale)
    latency = cfg.latency.call_latency[0]
    minimum = dict(minimum_writes(work))
    for route, n in pg.inventory.items():
        minimum[route] = minimum.get(route, 0) + n
    bound = lower_bound([pg.log, barrier.log], wants(work), latency, minimum,
                        rate_limit_info(cfg))  # fmt: skip
    print(bound_line(bound, latency))
    shared, mismatched = check_same_draws(pg.log, barrier.log)
    print(f"same_draws: {shared} subjects drawn by both phasegrid and barrier, "
          f"{mismatched} with different durations")  # fmt: skip

    ok = mismatched == 0
    for o in (pg, barrier, seq):
        if bad := incomplete(o.state):
            ok = False
            print(f"end_state: {o.name} incomplete on {len(bad)} unit(s), e.g. {bad[:3]}")
    for o in (barrier, seq):
        diffs = differences(pg.state, o.state)
        ok = ok and not diffs
        verdict = "same" if not diffs else "DIFFERENT: " + "; ".join(diffs)
        print(f"end_state: {o.name} vs phasegrid on {o.units} unit(s): {verdict}")
    print(f"end_states_match={'yes' if ok else 'no'}")
    print(f"benchmark wall time {time.monotonic() - started:.0f} s")
    for line in ratios(pg, {"barrier": barrier, "sequential": seq}, bound):
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main, parse(sys.argv[1:])))
