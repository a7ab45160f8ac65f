"""A worker's drain (what `phasegrid worker` does on SIGTERM), with cells held on gates:
no new job and no new cell (not even the unit's next one); the cells in flight land,
a transient failure among them is left to the next owner instead of failing the
cell; the job stays RUNNING, its lease released and back on the queue, and another
worker completes it without re-running what landed."""

from __future__ import annotations

import json

import anyio
import pytest

from engine.keys import GlobalKeys
from engine.targets import target_key
from tests.engine.helpers import Recorder, chain_spec, make_engine, units

pytestmark = pytest.mark.anyio


async def test_drain_lands_calls_in_flight_starts_nothing_and_hands_the_job_over(redis, prefix):
    held = Recorder()
    first = make_engine(redis, prefix, chain_spec(held, gated=True), max_in_flight=3)
    keys = GlobalKeys(prefix)
    async with first.running(worker=True):
        # u2's first try of `a` fails transiently: a retry the drain must not make
        unit_list = units("u1") + units("u2", flaky={"a": 1}) + units("u3", "u4")
        plan = await first.plan("chain", unit_list)
        job = plan.job_id
        await first.confirm(job, plan.digest)
        with anyio.fail_after(30):
            for u in ("u1", "u2", "u3"):  # three cells in flight (max_in_flight=3)
                await held.started[(u, "a")].wait()

        first.worker.drain()
        for u in ("u1", "u2", "u3"):  # the calls in flight land
            held.gate(u, "a").set()
        with anyio.fail_after(30):
            await first.worker.drained()

        assert set(held.attempts) == {("u1", "a"), ("u2", "a"), ("u3", "a")}  # nothing new
        cells = {
            f: json.loads(r)["s"] for f, r in (await redis.hgetall(keys.job(job).cells)).items()
        }
        assert cells["0|a"] == cells["2|a"] == "succeeded"
        assert cells["1|a"] == "running"  # not failed: the next owner retries it
        assert cells.get("3|a", "pending") == "pending" and cells.get("0|b", "pending") == "pending"
        meta = await redis.hgetall(keys.job(job).meta)
        assert meta["status"] == "RUNNING"
        assert not await redis.exists(keys.job(job).lease)
        assert await redis.lrange(keys.queue(target_key("")), 0, -1) == [job]

    ran = Recorder()
    second = make_engine(redis, prefix, chain_spec(ran))
    async with second.running(worker=True):
        view = await second.wait(job, timeout=30)
    assert view.status == "COMPLETED"
    assert ("u1", "a") not in ran.attempts and ("u3", "a") not in ran.attempts
    assert ran.attempts[("u2", "a")] == 2  # retried there (its first try there flakes too)
