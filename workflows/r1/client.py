"""`R1Client`: every R1 call the workflows need, on one pooled httpx client.

async with R1Client(R1Config.from_env(), rate_limiter=bucket) as r1:
    accepted = await r1.create_identity_group("unit-101")
    result = await r1.wait(accepted, tracker)   # raises a typed error on FAIL
    print(r1.stats.snapshot())                  # API calls and 429s
"""

from __future__ import annotations

import math
from typing import Protocol

from engine.activities import ActivityBackend, ActivityResult, ActivityTracker
from engine.errors import ActivityTimeoutError
from workflows.r1.activities import R1ActivityBackend, raise_for_activity
from workflows.r1.models import Accepted
from workflows.r1.resources.dpsk import DpskApi
from workflows.r1.resources.networks import NetworksApi
from workflows.r1.resources.venues import VenuesApi


class WaitsForActivities(Protocol):
    """The slice of `engine.context.PhaseContext` that `wait_in` needs."""

    async def wait_activity(
        self, backend: ActivityBackend, activity_id: str, timeout: float | None = None
    ) -> ActivityResult: ...


class R1Client(VenuesApi, NetworksApi, DpskApi):
    """Async R1 client (context manager). See `R1Transport` for the knobs."""

    _backend: R1ActivityBackend | None = None

    @property
    def activities(self) -> R1ActivityBackend:
        """The bulk activity backend to hand to the engine's `ActivityTracker`."""
        if self._backend is None:
            self._backend = R1ActivityBackend(self)
        return self._backend

    async def get_activity(self, request_id: str) -> ActivityResult | None:
        return await self.activities.get_activity(request_id)

    async def wait_in(
        self, ctx: WaitsForActivities, accepted: Accepted, *, timeout: float | None = None
    ) -> ActivityResult | None:
        """Wait from inside a phase executor: the engine's tracker polls in bulk
        and the phase gives its in-flight slot back meanwhile."""
        if not accepted.request_id:
            return None
        result = await ctx.wait_activity(self.activities, accepted.request_id, timeout)
        return raise_for_activity(result)

    async def wait(
        self,
        accepted: Accepted,
        tracker: ActivityTracker | None = None,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
    ) -> ActivityResult | None:
        """Wait for the write's activity; raise a typed error if it FAILed.

        With a tracker (the normal case) the wait joins its bulk poll; the
        tracker's `run()` must be running in a task group. Without one, poll
        `GET /activities/{id}` (fine for scripts, wasteful at scale). A write
        that answered synchronously (no requestId) returns None at once.
        """
        if not accepted.request_id:
            return None
        if tracker is not None:
            return raise_for_activity(await tracker.wait(accepted.request_id, timeout))
        limit = 600.0 if timeout is None else timeout
        polls = max(1, math.ceil(limit / poll_interval) + 1)
        for _ in range(polls):
            result = await self.get_activity(accepted.request_id)
            if result is not None and result.done:
                return raise_for_activity(result)
            await self.sleep(poll_interval)
        raise ActivityTimeoutError(
            f"activity {accepted.request_id} did not finish within {limit:g}s"
        )
