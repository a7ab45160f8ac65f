"""A worker with a worker-wide cap claims a queued job only while it has room (a free
slot, no job of its own still starting): jobs queued before the workers start are
spread over the workers that come up, not all taken by the first one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from engine import Engine
from engine.room import Room
from tests.engine.helpers import Recorder, chain_spec, make_engine, units

pytestmark = pytest.mark.anyio


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:
    with anyio.fail_after(timeout):
        while not (result := await check()):
            await anyio.sleep(0.005)
    return result


def capped(redis: Any, prefix: str, rec: Recorder) -> Engine:
    engine = make_engine(redis, prefix, chain_spec(rec, phases=("a",), gated=True))
    engine.worker.slots = anyio.CapacityLimiter(1)
    return engine


async def test_queued_jobs_go_to_the_worker_with_room(redis, prefix):
    rec = Recorder()
    a, b = capped(redis, prefix, rec), capped(redis, prefix, rec)
    jobs: dict[str, str] = {}
    async with a.running(worker=False):  # both jobs queued before any worker runs
        for name in ("u1", "u2"):
            plan = await a.plan("chain", units(name))
            await a.confirm(plan.job_id, plan.digest)
            jobs[name] = plan.job_id

    async def started() -> list[str]:
        return [name for name in jobs if rec.started[(name, "a")].is_set()]

    async def owners() -> dict[str, str]:
        got = {name: (await a.store.meta(j)).get("worker", "") for name, j in jobs.items()}
        return got if all(got.values()) else {}

    async with a.running(worker=True):
        [first] = await until(started)  # its cell holds a's only slot: a has no room
        async with b.running(worker=True):
            got = await until(owners)
            assert got[first] == a.worker.id
            assert [w for name, w in got.items() if name != first] == [b.worker.id]
            await until(lambda: _all_started(rec, jobs))
            for name in jobs:
                rec.gate(name, "a").set()
            for job_id in jobs.values():
                assert (await a.wait(job_id, timeout=30)).status == "COMPLETED"


async def _all_started(rec: Recorder, jobs: dict[str, str]) -> bool:
    return all(rec.started[(name, "a")].is_set() for name in jobs)


async def test_room_needs_a_free_slot_for_a_moment_and_no_job_starting():
    slots = anyio.CapacityLimiter(1)
    room = Room(settle=0.05, tick=0.01)
    running: set[str] = set()
    assert room.free(None, running.__contains__)  # no worker-wide cap: always room
    assert await room.wait(slots, running.__contains__, limit=5)
    room.starting.add("j1")  # handed to run_job, not running yet
    assert not room.free(slots, running.__contains__)
    assert not await room.wait(slots, running.__contains__, limit=0.05)
    running.add("j1")
    assert room.free(slots, running.__contains__)
    await slots.acquire_on_behalf_of("cell")  # its cell holds the one slot
    assert not room.free(slots, running.__contains__)
    assert not await room.wait(slots, running.__contains__, limit=0.05)
    slots.release_on_behalf_of("cell")
    assert await room.wait(slots, running.__contains__, limit=5)
