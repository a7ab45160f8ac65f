"""When the activity poller polls next, and which activities are worth asking about.

Polls cost calls (one per 500 ids); a completion noticed late holds up the unit's
next write. Two rules keep polls few without noticing completions late:

- **Age.** No activity finishes younger than the youngest seen finishing so far
  (`min_age`, learned from every completion: the backend's start and end times when
  it gives them, else when we saw it done). An activity younger than that, less one
  `lo` of margin, is left out of a poll; with none old enough the poller does not
  poll at all, it sleeps until the first one is.
- **Expected yield.** After a poll that saw completions, the next one comes once
  about `per_call` completions per query call are expected at the rate just seen
  (never more than a `share` of the ids polled, so a small job is not kept
  waiting for completions it cannot have), between the backend's `poll_intervals`
  (`lo`, `hi`). While a poll sees nothing finish, the pause grows by `growth` up to
  `hi`. So a busy job polls every few seconds with many completions per call (about
  `1 / per_call` polls per activity) and a quiet one every `hi`.

Times are the caller's (our seconds: a simulator's time scale is already in `lo`
and `hi`); nothing here is in real seconds of its own.
"""

from __future__ import annotations


class PollPacer:
    """The poller's pacing state: the pause before the next poll and `min_age`."""

    def __init__(
        self,
        lo: float,
        hi: float,
        *,
        growth: float = 1.5,
        per_call: float = 30.0,
        share: float = 0.1,
    ) -> None:
        self.lo = lo
        self.hi = max(lo, hi)
        self.growth = growth
        self.per_call = per_call
        self.share = share
        self.interval = lo
        self.min_age: float | None = None
        """The youngest age at which an activity was seen finishing (None: none yet)."""

    def restart(self) -> None:
        """A fresh start (after an idle spell): the next pause is `lo`."""
        self.interval = self.lo

    def learn(self, age: float) -> None:
        """An activity finished `age` seconds after it started."""
        age = max(0.0, age)
        if self.min_age is None or age < self.min_age:
            self.min_age = age

    def eligible_at(self, since: float) -> float:
        """When an activity started at `since` becomes worth polling."""
        if self.min_age is None:
            return since
        return since + max(0.0, self.min_age - self.lo)

    def paced(self, found: int, window: float, calls: int, polled: int) -> float:
        """A poll of `polled` ids in `calls` calls saw `found` finish, over `window`
        seconds in which they could have: the pause before the next poll."""
        if found <= 0:
            self.interval = min(self.hi, self.interval * self.growth)
            return self.interval
        target = min(self.per_call * max(1, calls), max(1.0, self.share * polled))
        rate = found / max(window, 1e-9)
        self.interval = min(self.hi, max(self.lo, target / rate))
        return self.interval
