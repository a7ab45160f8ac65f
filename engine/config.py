"""The engine's settings (one process's; every process sharing a Redis should agree
on `prefix`, the retention periods and the lease TTL)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from engine.estimate import TargetTiming


class EngineConfig(BaseModel):
    prefix: str = "pg"
    max_in_flight: int = Field(64, ge=1)
    plan_ttl: float = Field(3600.0, gt=0)
    finished_ttl: int = Field(7 * 24 * 3600, ge=0)
    events_maxlen: int = Field(200_000, ge=100)
    lease_ttl: float = Field(15.0, gt=0)
    cancel_poll: float = Field(0.5, gt=0)
    """Seconds between a running job's reads of its cancel request: how long a cancel
    takes at most to reach the job's owner, wherever it runs."""
    planner_lease_ttl: float = Field(60.0, gt=0)
    """A job still PLANNING this long after its planner's last sign of life is FAILED."""
    activity_batch: int = Field(500, ge=1)
    activity_timeout: float = Field(600.0, gt=0)
    """Target seconds an activity may take before its wait fails (times `time_scale`)."""
    activity_min_interval: float | None = Field(None, ge=0)
    activity_max_interval: float | None = Field(None, gt=0)
    """Poll pacing; None: the backend's own (`poll_intervals`, e.g. R1's 1 s to 5 s)."""
    simulated: bool = False
    time_scale: float = Field(1.0, gt=0)
    """Our seconds per target second (a simulator run at 1/10: 0.1): the target's
    durations (retry backoff and Retry-After, the activity timeout, the estimate)
    are kept in target seconds and scaled by this; the lease TTL and the engine's
    own pacing are ours and are not."""
    target_timing: TargetTiming | None = None
    """The target's timing for the plan's estimate (the runtime knows the backend);
    None: the workflow's `seconds_per_call` per call."""

    def target_seconds(self, seconds: float) -> float:
        """A duration in target seconds, in ours."""
        return seconds * self.time_scale
