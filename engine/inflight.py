"""A job's global in-flight limit, shared by the tasks running its cells.

A task holds one slot while it makes calls and lets it go while it waits (on an
activity or a backoff), so waiting never starves the job.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio


class Slot:
    """One task's claim on the in-flight limit (let go while waiting)."""

    __slots__ = ("held", "token")

    def __init__(self, token: object) -> None:
        self.token = token
        self.held = True


class InFlight:
    def __init__(
        self,
        limit: int,
        on_release: Callable[[], None],
        *,
        shared: anyio.CapacityLimiter | None = None,
    ) -> None:
        """`shared`: a limit shared with other jobs (a worker's) instead of `limit`."""
        self._limiter = shared or anyio.CapacityLimiter(max(1, limit))
        self._on_release = on_release
        """Called whenever a slot is let go (the scheduler may start something)."""

    @property
    def in_use(self) -> int:
        return int(self._limiter.borrowed_tokens)

    async def take(self) -> Slot:
        slot = Slot(object())
        await self._limiter.acquire_on_behalf_of(slot.token)
        return slot

    def release(self, slot: Slot) -> None:
        if slot.held:
            self._limiter.release_on_behalf_of(slot.token)
            slot.held = False
            self._on_release()

    async def retake(self, slot: Slot) -> None:
        """Wait for the slot again (after a wait that let it go)."""
        await self._limiter.acquire_on_behalf_of(slot.token)
        slot.held = True
