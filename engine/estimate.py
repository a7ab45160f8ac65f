"""The plan's duration estimate, from the target's timing (not from a guess per call).

A run ends when its slowest unit's critical path ends, unless a limit binds first:

- **critical path**: per unit, the longest chain over the phase DAG, each phase
  weighing its `PhasePlan.waits` activities one after another (a plan that says
  nothing: 1 if it makes calls) plus its calls; the job waits for the slowest of
  n units, expected at mean + sigma * z(n) (Blom's expected maximum of n normal
  draws), never past every activity at its slowest;
- **rate limit**: every call through one tenant bucket (after its burst), plus the
  last activity's duration (conservative: R1 buckets per service family);
- **in-flight limit**: calls / max_in_flight, each a call's latency.

The estimate is the largest of the three plus the start-up (a token), given as a
range: `low` with the target at the fast edge of its timing, `high` with every
duration at its slowest; the point is the expectation. Target seconds are turned
into ours with the time scale (a simulator run at 1/10 finishes in 1/10).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.models import PhasePlan, UnitPlan
from engine.spec import PhaseSpec

Span = tuple[float, float]


class TargetTiming(BaseModel):
    """How long the target takes, in target seconds (R1's; a simulator's before its
    time scale). The runtime fills it from what it knows of the backend; the engine
    only reads it for the plan's estimate."""

    model_config = ConfigDict(frozen=True)

    activity_seconds: Span = (0.0, 0.0)
    """An asynchronous activity, from its 202 to SUCCESS: drawn between these."""
    call_seconds: Span = (0.0, 0.0)
    """One HTTP call's latency."""
    rate_per_second: float | None = Field(None, gt=0)
    """Calls per second of the tenant's bucket; None: no rate limit."""
    burst: float = Field(0.0, ge=0)
    families: dict[str, tuple[float, float]] = Field(default_factory=dict)
    """Per service family (calls per second, burst) where it differs from the
    default; the high end assumes every call in the slowest one."""
    poll_seconds: Span = (0.0, 0.0)
    """The activity poller's first pause and cap: a finished activity is seen up to
    one interval late (continuous completions keep it near the first pause)."""
    source: str = ""
    """Where the figures come from (shown nowhere secret; e.g. 'simulator profile')."""

    @field_validator("activity_seconds", "call_seconds", "poll_seconds")
    @classmethod
    def _span(cls, value: Span) -> Span:
        if not 0 <= value[0] <= value[1]:
            raise ValueError(f"expected 0 <= low <= high seconds, got {value[0]:g},{value[1]:g}")
        return value

    @classmethod
    def per_call(cls, seconds: float) -> TargetTiming:
        """A target known only by a duration per call (a workflow's `seconds_per_call`)."""
        return cls(call_seconds=(seconds, seconds), source="seconds per call")


class Estimate(BaseModel):
    """Seconds (ours, time scale applied): `low <= seconds <= high`."""

    seconds: float
    low: float
    high: float
    bound: str
    """What binds at the point estimate: 'critical path', 'rate limit' or 'in-flight limit'."""


def z_of(n: int) -> float:
    """Expected maximum of n standard normal draws (Blom's approximation); 0 for n <= 1."""
    if n <= 1:
        return 0.0
    return NormalDist().inv_cdf((n - 0.375) / (n + 0.25))


def phase_weight(plan: PhasePlan | None) -> tuple[int, int]:
    """(activities one after another, calls) of one phase; skips and reuses weigh nothing."""
    if plan is None or plan.action in ("skip", "conflict"):
        return 0, 0
    waits = plan.waits if plan.waits is not None else (1 if plan.calls > 0 else 0)
    return waits, plan.calls


def chain_of(
    phases: Sequence[PhaseSpec], plans: Mapping[str, PhasePlan], mean: tuple[float, float]
) -> tuple[int, int]:
    """(activities, calls) along the unit's longest path; `phases` in dependency
    order; `mean` (seconds per activity, per call) decides which path is longest."""
    best: dict[str, tuple[float, int, int]] = {}
    top = (0.0, 0, 0)
    for phase in phases:
        k, c = phase_weight(plans.get(phase.id))
        before = max((best[d] for d in phase.depends_on if d in best), default=(0.0, 0, 0))
        here = (before[0] + k * mean[0] + c * mean[1], before[1] + k, before[2] + c)
        best[phase.id] = here
        top = max(top, here)
    return top[1], top[2]


def chain_seconds(
    shapes: Mapping[tuple[int, int], int], t: TargetTiming, shift: float, edge: int
) -> float:
    """The slowest unit's chain: over each shape (activities k, calls c) x units n,
    k activities' mean + (z(n) + shift) of their spread, plus the poller's lag and
    the calls at `edge` (0 fast, 1 mean, 2 slow); within every duration's bounds."""
    (a_lo, a_hi), (p_lo, p_hi) = t.activity_seconds, t.poll_seconds
    a_mean, sigma = (a_lo + a_hi) / 2, (a_hi - a_lo) / math.sqrt(12)
    call = (t.call_seconds[0], sum(t.call_seconds) / 2, t.call_seconds[1])[edge]
    lag = (p_lo / 2, (p_lo + p_hi) / 4, p_hi / 2)[edge]
    worst = 0.0
    for (k, c), n in shapes.items():
        seconds = k * (a_mean + lag) + math.sqrt(k) * sigma * (z_of(n) + shift) + c * call
        floor = k * a_lo + c * t.call_seconds[0]
        cap = k * (a_hi + p_hi) + c * t.call_seconds[1]
        worst = max(worst, min(max(seconds, floor), cap))
    return worst


def estimate(
    phases: Sequence[PhaseSpec],
    global_plans: Mapping[str, PhasePlan],
    unit_plans: Sequence[UnitPlan],
    *,
    calls: int,
    max_in_flight: int,
    timing: TargetTiming,
    time_scale: float = 1.0,
) -> Estimate:
    """The run's duration (see the module docstring), in our seconds."""
    t = timing
    (a_lo, a_hi), (c_lo, c_hi) = t.activity_seconds, t.call_seconds
    a_mean, c_mean = (a_lo + a_hi) / 2, (c_lo + c_hi) / 2
    shapes: dict[tuple[int, int], int] = {}
    for u in unit_plans or [UnitPlan(unit="", phases={})]:
        shape = chain_of(phases, {**global_plans, **u.phases}, (a_mean, c_mean))
        shapes[shape] = shapes.get(shape, 0) + 1
    chain = [chain_seconds(shapes, t, shift, edge) for edge, shift in enumerate((-1, 0, 1))]
    rate = [0.0, 0.0, 0.0]
    if t.rate_per_second is not None:
        over = max(0, calls - t.burst) / t.rate_per_second
        slow_rate, slow_burst = min([(t.rate_per_second, t.burst), *t.families.values()])
        rate = [over + a_lo, over + a_mean, max(0, calls - slow_burst) / slow_rate + a_hi]
    waves = calls / max(1, max_in_flight)
    in_flight = [waves * c_lo, waves * c_mean, waves * c_hi]
    terms = {"critical path": chain, "rate limit": rate, "in-flight limit": in_flight}
    bound = max(terms, key=lambda name: terms[name][1])
    start = (c_lo, c_mean, c_hi)  # the run's first call: its token
    low, point, high = (
        (max(term[i] for term in terms.values()) + start[i]) * time_scale for i in range(3)
    )
    return Estimate(
        seconds=round(point, 1), low=round(min(low, point), 1), high=round(max(high, point), 1),
        bound=bound,
    )  # fmt: skip
