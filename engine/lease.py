"""A job's lease as the calls of its cells see it: checked right before each write
to the target.

Fencing keeps a worker that lost its lease from writing to Redis, but the target
(R1) knows nothing of leases. A worker frozen past its lease TTL (SIGSTOP, a
suspended VM, a long pause) wakes up with calls it was about to send while another
worker already runs the job. `check_lease()` refuses them: a lease is valid until
one TTL after its last renewal was *sent* (Redis counts from a later instant: the
safe side), on the event loop's monotonic clock, which keeps running while the
process is frozen. The worker sets the lease for the tasks of the job (`LEASE`);
the backend's transport calls `check_lease()` before it sends a write.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

import anyio

from engine.errors import PhaseError


class LeaseExpired(PhaseError):
    """The job's lease may have lapsed: a write now could race its next owner."""

    kind = "lease_expired"


class JobLease:
    def __init__(
        self, job_id: str, ttl: float, since: float, on_expired: Callable[[], None]
    ) -> None:
        """`since`: when the claim was sent (`anyio.current_time()`)."""
        self.job_id = job_id
        self.ttl = ttl
        self.valid_until = since + ttl
        self.closed = False
        """The job's run here ended: a task that outlives it (one that inherited
        the lease, e.g. a shared poller) is not held to it."""
        self._on_expired = on_expired

    def renewed(self, sent_at: float) -> None:
        self.valid_until = max(self.valid_until, sent_at + self.ttl)

    def check(self) -> None:
        if not self.closed and anyio.current_time() >= self.valid_until:
            self._on_expired()
            raise LeaseExpired(f"the lease on job {self.job_id} may have lapsed: write not sent")


LEASE: ContextVar[JobLease | None] = ContextVar("phasegrid_job_lease", default=None)


def check_lease() -> None:
    """Raise `LeaseExpired` when the job this task works for may have a new owner."""
    lease = LEASE.get()
    if lease is not None:
        lease.check()
