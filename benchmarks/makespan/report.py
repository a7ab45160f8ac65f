"""The benchmark's printed lines: one per contender, the bound, the end-state check,
then the ratios as name=value, `makespan_vs_bound` last."""

from __future__ import annotations

from benchmarks.makespan.bound import Bound
from benchmarks.makespan.contenders import Outcome, kinds


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.2f}"


def contender_line(o: Outcome) -> str:
    k = kinds(o.requests)
    calls = sum(o.requests.values())
    size = (f"{o.units} units" if o.factor == 1 else
            f"{o.units} units run, {o.measured / 60:.2f} R1-min measured")  # fmt: skip
    return (
        f"{o.name}: makespan={minutes(o.makespan)} R1-min ({size}) "
        f"calls={calls} writes={k['writes']} reads={k['reads']} polls={k['polls']} "
        f"429s={o.rate_limited} time_scale={o.time_scale:g} "
        f"cpu/wall={o.cpu:.1f}s/{o.wall:.1f}s ({o.cpu / max(o.wall, 1e-9):.2f})\n"
        f"  {o.name}: {o.how}"
        + (f"; plan estimate {minutes(o.estimate)} R1-min" if o.estimate is not None else "")
    )


def bound_line(b: Bound, latency: float) -> str:
    text = (
        f"bound: makespan={minutes(b.seconds)} R1-min = max(critical path "
        f"{minutes(b.path)} (unit {b.slowest_unit}; drawn durations + {latency:g} s call "
        f"latency per step), rate {minutes(b.rate)} ({b.minimum_calls} minimum calls, "
        f"busiest family {b.busiest_family}, minus its burst))"
    )
    if b.missing:
        text += f" [{b.missing} unit(s) lacked a drawn duration: counted as 0]"
    return text


def ratios(phasegrid: Outcome, others: dict[str, Outcome], b: Bound) -> list[str]:
    pg = phasegrid.makespan
    calls = sum(phasegrid.requests.values())
    k = kinds(phasegrid.requests)
    activities = len(phasegrid.log)
    lines = []
    for name in ("barrier", "sequential"):
        if name in others:
            lines.append(f"{name}_vs_phasegrid={others[name].makespan / pg:.2f}")
    lines.append(f"calls_vs_minimum={calls / max(b.minimum_calls, 1):.3f}")
    lines.append(f"polls_per_activity={k['polls'] / max(activities, 1):.4f}")
    eta = phasegrid.estimate / pg if phasegrid.estimate else 0.0
    lines.append(f"eta_ratio={eta:.3f}")
    lines.append(f"makespan_vs_bound={pg / b.seconds:.3f}")
    return lines
