"""The activity trackers of one engine: one bulk poller per backend, shared by
every job of the process, each polling in the engine's task group while it runs."""

from __future__ import annotations

from typing import Any

from engine.activities import ActivityBackend, ActivityTracker
from engine.config import EngineConfig


class Trackers:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._trackers: dict[int, ActivityTracker] = {}
        self._tg: Any = None

    def start(self, tg: Any) -> None:
        """Poll in `tg` from now on (those made earlier, in an earlier run, too)."""
        self._tg = tg
        for tracker in self._trackers.values():
            tg.start_soon(tracker.run)

    def stop(self) -> None:
        self._tg = None

    def tracker_for(self, backend: ActivityBackend) -> ActivityTracker:
        tracker = self._trackers.get(id(backend))
        if tracker is None:
            cfg = self.config
            tracker = ActivityTracker(
                backend,
                batch_size=cfg.activity_batch,
                timeout=cfg.target_seconds(cfg.activity_timeout),
                min_interval=cfg.activity_min_interval,
                max_interval=cfg.activity_max_interval,
            )
            if self._tg is None:  # keep none: a tracker is kept only once it runs
                raise RuntimeError("activity waits need `async with engine.running()`")
            self._trackers[id(backend)] = tracker
            self._tg.start_soon(tracker.run)
        return tracker
