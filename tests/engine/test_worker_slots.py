"""`phasegrid worker --concurrency N`: at most N cells in flight across every job of
the worker (`Worker.slots`), not N per job."""

from __future__ import annotations

import anyio
import pytest

from tests.engine.helpers import Recorder, chain_spec, make_engine, units

pytestmark = pytest.mark.anyio


async def test_the_worker_cap_holds_across_its_jobs(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, phases=("a",), gated=True))
    engine.worker.slots = anyio.CapacityLimiter(2)  # each job alone may run 64
    async with engine.running(worker=True):
        for names in (("j1-u1", "j1-u2", "j1-u3"), ("j2-u1", "j2-u2", "j2-u3")):
            plan = await engine.plan("chain", units(*names))
            await engine.confirm(plan.job_id, plan.digest)
        opened: set[tuple[str | None, str]] = set()
        with anyio.fail_after(30):
            while len(opened) < 6:  # let each cell end once it started: the next may start
                for key, started in list(rec.started.items()):
                    if started.is_set() and key not in opened:
                        rec.gate(*key).set()
                        opened.add(key)
                await anyio.sleep(0.005)
    assert rec.max_in_flight == 2
