"""What the activity poller reports of itself: its own meter (its calls are nobody's
phase's) and how promptly it notices completions."""

from __future__ import annotations

from pydantic import BaseModel, computed_field


class TrackerStats(BaseModel):
    """The poller's own meter (its calls are nobody's phase's) and how prompt it is."""

    outstanding: int = 0
    rounds: int = 0
    polls: int = 0
    """Activity query calls (one per batch of up to `batch_size` ids)."""
    calls: int = 0
    """HTTP calls of the poller, retries included (a backend that measures them)."""
    rate_limited: int = 0
    ids_polled: int = 0
    finished: int = 0
    timed_out: int = 0
    poll_errors: int = 0
    noticed: int = 0
    notice_lag_total: float = 0.0
    notice_lag_max: float = 0.0
    """Seconds from an activity's end (the backend's `ended`, or when it was last
    polled unfinished, an upper bound) to the poll that saw it done."""
    min_age: float | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def notice_lag_mean(self) -> float:
        return self.notice_lag_total / self.noticed if self.noticed else 0.0
