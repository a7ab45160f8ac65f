"""`phasegrid worker` as a real process against a `phasegrid sim` process on one Redis:
it runs confirmed jobs (`serve --no-worker` does not), and SIGTERM drains it: no new
cell, the calls in flight land (bounded by --drain-timeout), the job stays RUNNING
with its lease released and another worker resumes it; a second signal exits at once.

Signals are sent on conditions read from Redis, the simulator or the worker's own log
("after N cells", "a call is in flight", "draining"), never after a sleep. A call is
held in flight by stopping the simulator (SIGSTOP: the call lands on SIGCONT) or by a
simulator `hang` rule (the call never lands, and never writes).
"""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from engine.codec import dump_revealed
from engine.keys import GlobalKeys
from engine.targets import target_key
from tests.chaos.fleet import Reader, front, job_units, start_sim, submit, until
from tests.chaos.procs import Procs, Rpc

pytestmark = pytest.mark.anyio

IN_FLIGHT = ("running", "waiting")
TERMINAL_CELLS = ("succeeded", "failed", "skipped", "blocked", "cancelled")


@pytest.fixture
def procs(tmp_path: Path, redis_url: str) -> Iterator[Procs]:
    procs = Procs(tmp_path, redis_url, f"wk{uuid.uuid4().hex[:8]}")
    try:
        yield procs
    finally:
        procs.close()
    for log in tmp_path.glob("worker*.log"):
        text = log.read_text()
        assert "Traceback" not in text and "ExceptionGroup" not in text, (log.name, text[-3000:])


@pytest.fixture
async def reader(redis_url: str, procs: Procs) -> AsyncIterator[Reader]:
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield Reader(redis, procs.prefix)
    finally:
        await redis.aclose()


async def sim_stats(sim_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=sim_url, timeout=60) as http:
        return (await http.get("/_sim/stats")).json()


def sim_proc(procs: Procs) -> Any:
    return procs.started[0]  # start_sim is the first process every test starts


async def cells_done(reader: Reader, job_id: str, n: int) -> None:
    async def enough() -> bool:
        assert await reader.status(job_id) in ("QUEUED", "RUNNING"), "ended too early"
        return len(await reader.cells(job_id, *TERMINAL_CELLS)) >= n

    await until(enough, f"{n} cells of {job_id} done")


async def completed(reader: Reader, job_id: str) -> None:
    async def finished() -> str:
        status = await reader.status(job_id)
        return status if status not in ("QUEUED", "RUNNING") else ""

    assert await until(finished, f"{job_id} finished") == "COMPLETED"


async def test_worker_runs_a_confirmed_job_that_serve_no_worker_leaves_queued(
    procs: Procs, reader: Reader
) -> None:
    units = job_units(1, 4)[0]
    sim_url = start_sim(procs, units)
    _serve, base = procs.serve(sim_url, 2.0, "--no-worker")
    rpc = Rpc(base)
    try:
        raw = [json.loads(dump_revealed(u)) for u in units]
        params = {"workflow": "per_unit_dpsk", "units": raw, "options": {"venue": "Sim Venue"}}
        plan = await rpc.call("jobs.plan", params)
        job_id = plan["job_id"]
        view = await rpc.call("jobs.confirm", {"job_id": job_id, "digest": plan["digest"]})
        # serve --no-worker registered no worker and claimed nothing: the job waits
        assert view["status"] == "QUEUED" and "no live worker" in (view["waiting"] or "")
        queue = GlobalKeys(procs.prefix).queue(target_key(f"sim-url:{sim_url}"))
        assert await reader.redis.lrange(queue, 0, -1) == [job_id]

        worker = procs.worker(sim_url, 2.0, "--concurrency", "4")
        view = await rpc.call("jobs.wait", {"job_id": job_id, "timeout": 120})
        assert view["status"] == "COMPLETED", view
        assert [(s["worker"], s["fence"]) for s in await reader.starts(job_id)] == [(worker.id, 1)]
        worker.wait_line(f"job {job_id}: claimed by {worker.id} (fence 1)")
        worker.wait_line(f"job {job_id}: finished COMPLETED")
        assert (await sim_stats(sim_url))["duplicate_create_attempts"] == 0

        worker.signal(signal.SIGTERM)  # idle: nothing to drain
        assert worker.exit_code() == 0
        worker.wait_line("draining on SIGTERM: 0 job(s) running")
    finally:
        await rpc.aclose()


async def test_sigterm_lets_calls_in_flight_land_then_hands_the_job_over(
    procs: Procs, reader: Reader
) -> None:
    units = job_units(1, 10)[0]
    sim_url = start_sim(procs, units)
    sim = sim_proc(procs)
    async with front(procs, sim_url) as rt:
        # a lease TTL far beyond the test: only the release hands the job over
        a = procs.worker(sim_url, 60, "--concurrency", "3", "--drain-timeout", "60")
        job_id = await submit(rt, units)
        await cells_done(reader, job_id, 8)
        sim.send_signal(signal.SIGSTOP)  # the worker's calls stay in flight
        try:
            await until(lambda: reader.cells(job_id, "running"), "a cell in flight")
            a.signal(signal.SIGTERM)
            a.wait_line("draining on SIGTERM: 1 job(s) running, at most 60s")
        finally:
            sim.send_signal(signal.SIGCONT)  # now the calls in flight land
        assert a.exit_code() == 0
        assert "drain timed out" not in a.log.read_text()
        assert not await reader.leased(job_id)  # released on exit, not left to expire
        assert await reader.status(job_id) == "RUNNING"
        assert await reader.cells(job_id, *IN_FLIGHT) == []  # every call in flight landed
        a.wait_line(f"job {job_id}: left RUNNING (drained)")

        events = await reader.events(job_id)
        drain = next(i for i, e in enumerate(events) if e["type"] == "log" and a.id in e["message"])
        cell = lambda e: (e["unit"], e["phase"])  # noqa: E731
        started_before = {cell(e) for e in events[:drain] if e["type"] == "phase_started"}
        ended_before = {cell(e) for e in events[:drain] if e["type"] == "phase_succeeded"}
        in_flight = started_before - ended_before
        after = events[drain + 1 :]
        assert in_flight, "no call was in flight when the drain began"
        assert not [e for e in after if e["type"] == "phase_started"]  # no new cell
        assert in_flight <= {cell(e) for e in after if e["type"] == "phase_succeeded"}

        b = procs.worker(sim_url, 60, "--concurrency", "3")
        await completed(reader, job_id)
        starts = [(s["worker"], s["fence"], s["resumed"]) for s in await reader.starts(job_id)]
        assert starts == [(a.id, 1, False), (b.id, 2, True)]
        assert (await sim_stats(sim_url))["duplicate_create_attempts"] == 0
        b.signal(signal.SIGTERM)
        assert b.exit_code() == 0


async def test_drain_is_bounded_and_a_second_signal_exits_at_once(
    procs: Procs, reader: Reader
) -> None:
    units = job_units(1, 6)[0]
    # the first unit's identity-group create hangs, twice (never answered within the
    # test, never applied): a call that cannot land, whoever runs the unit
    name = f"{units[0].unit_number}-IDG"
    hang = {"action": "hang", "route": "^POST /identityGroups$", "match": name, "times": 2}
    sim_url = start_sim(procs, units, faults=json.dumps({"hang_seconds": 110, "rules": [hang]}))

    async def hangs(n: int) -> bool:
        return (await sim_stats(sim_url))["faults_injected"].get("hang", 0) >= n

    async with front(procs, sim_url) as rt:
        a = procs.worker(sim_url, 60, "--concurrency", "3", "--drain-timeout", "1.5")
        job_id = await submit(rt, units)
        await until(lambda: hangs(1), "a call hanging")
        signalled = time.monotonic()
        a.signal(signal.SIGTERM)
        assert a.exit_code() == 0  # after the bound, not after the hung call
        assert time.monotonic() - signalled >= 1.5  # it did wait for calls to land
        a.wait_line("drain timed out")
        assert not await reader.leased(job_id)
        assert await reader.status(job_id) == "RUNNING"
        assert len(await reader.cells(job_id, *IN_FLIGHT)) >= 1  # the hung call's cell

        # the next worker resumes the job at once (it was queued again) and re-runs
        # that cell, whose create hangs again: a drain that cannot finish
        b = procs.worker(sim_url, 5, "--concurrency", "3", "--drain-timeout", "110")
        await until(lambda: hangs(2), "the resumed cell's call hanging")
        assert [s["worker"] for s in await reader.starts(job_id)] == [a.id, b.id]
        b.signal(signal.SIGTERM)
        b.wait_line("draining on SIGTERM")
        b.signal(signal.SIGTERM)
        # within 30 s: the drain it cut short had 110 s to go
        assert b.exit_code(timeout=30) == 128 + signal.SIGTERM
        b.wait_line("second SIGTERM: exiting now")
        lease = GlobalKeys(procs.prefix).job(job_id).lease
        assert await reader.redis.get(lease) == b.id  # left to expire (TTL 5 s)
        assert await reader.status(job_id) == "RUNNING"

        c = procs.worker(sim_url, 5, "--concurrency", "3")  # takes over once it expires
        await completed(reader, job_id)
        starts = [(s["worker"], s["fence"]) for s in await reader.starts(job_id)]
        assert starts == [(a.id, 1), (b.id, 2), (c.id, 3)]
        stats = await sim_stats(sim_url)
        assert stats["duplicate_create_attempts"] == 0, stats["duplicate_create_attempts_by_type"]
        c.signal(signal.SIGINT)
        assert c.exit_code() == 0
