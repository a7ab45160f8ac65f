"""The lease check before each write: a worker frozen past its lease TTL (here the
event loop blocked, as SIGSTOP would) sends R1 no write when it wakes up, only
reads, and stops the job (fenced); `tests/chaos/test_workers_fencing.py` shows it
with real processes."""

from __future__ import annotations

import time

import anyio
import pytest

from engine.lease import LEASE, JobLease, LeaseExpired
from tests.r1.simharness import SimTarget
from workflows.sim import SimConfig, Simulator

pytestmark = pytest.mark.anyio

TTL = 0.2


def posts(sim: Simulator) -> int:
    return sim.stats()["requests"].get("POST /identityGroups", 0)


async def test_no_write_leaves_once_the_lease_may_have_lapsed() -> None:
    sim = Simulator(SimConfig(profile="instant", seed=1))
    lost: list[str] = []
    async with SimTarget(sim, "http://sim", "asgi").client() as r1:
        lease = JobLease("j1", TTL, anyio.current_time(), lambda: lost.append("j1"))
        LEASE.set(lease)
        await r1.create_identity_group("unit-1-IDG")  # within the lease: sent
        assert posts(sim) == 1 and lost == []

        time.sleep(TTL * 1.5)  # frozen past the TTL: the loop (the process) did not run
        with pytest.raises(LeaseExpired):
            await r1.create_identity_group("unit-2-IDG")
        assert posts(sim) == 1 and lost == ["j1"]  # not sent; the job is told
        assert await r1.find_identity_group("unit-1-IDG") is not None  # reads still go

        lease.renewed(anyio.current_time())  # a renewal sent after the freeze: valid again
        await r1.create_identity_group("unit-2-IDG")
        assert posts(sim) == 2

        time.sleep(TTL * 1.5)
        lease.closed = True  # the job's run ended: a task that inherited it is not held
        await r1.create_identity_group("unit-3-IDG")
        assert posts(sim) == 3 and lost == ["j1"]
