"""Whether a worker has room for another job: scale-out pulls work, it does not hoard it.

A worker with a worker-wide in-flight cap (`phasegrid worker --concurrency N`)
takes another queued job only while one of its slots has stayed free for a
moment and none of its jobs is still starting: a job it claimed beyond that
would only share slots its other jobs already fill, while another worker (one
started later, or one with room) could run it. Without the check, the first
worker up claimed every queued job and the ones started after it had nothing
to do. A job whose worker died is taken over at once all the same (the caller
decides): it was running, and its lease lapsing must not strand it.

Without a worker-wide cap (the embedded worker of `serve` and the TUI) every job
brings its own slots, so there is always room.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio


class Room:
    """The claim gate of one worker."""

    def __init__(self, *, settle: float = 0.05, tick: float = 0.05) -> None:
        self.settle = settle
        """How long a slot must stay free before it counts as room (a cell ending
        frees one for an instant). Longer costs throughput: a job's last cells and
        the next job's first ones (loading, its global cells) fill few slots, and
        the sooner the next job is claimed, the more they overlap."""
        self.tick = tick
        self.starting: set[str] = set()
        """Jobs handed to `run_job`, until it returns; those not yet running here
        (claiming, loading) leave no room."""

    def free(self, slots: anyio.CapacityLimiter | None, running: Callable[[str], bool]) -> bool:
        """Room now: no job of ours still starting, and a slot free."""
        if slots is None:
            return True
        if any(not running(job_id) for job_id in self.starting):
            return False
        return slots.available_tokens > 0

    async def wait(
        self,
        slots: anyio.CapacityLimiter | None,
        running: Callable[[str], bool],
        limit: float,
    ) -> bool:
        """Wait until there is room (for `settle` seconds on end); False after `limit`."""
        deadline = anyio.current_time() + limit
        since: float | None = None
        while True:
            now = anyio.current_time()
            if not self.free(slots, running):
                since = None
            elif slots is None or now - (since := now if since is None else since) >= self.settle:
                return True
            if now >= deadline:
                return False
            await anyio.sleep(self.tick)
