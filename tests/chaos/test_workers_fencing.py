"""Issue 11 acceptance: three `phasegrid worker` processes, five jobs, one Redis, one
`phasegrid sim`. Every job runs on exactly one worker at a time:

- a job's owner frozen (SIGSTOP) past the lease TTL loses the job to another worker
  (a JobStarted event with the next fence); resumed (SIGCONT), its writes are refused
  by fencing (counted in the job's meta) and it sends R1 no write either (the lease
  check before each write): the simulator sees no duplicate create;
- a job's owner killed (SIGKILL) hands the job over once the lease expires.

Every job ends COMPLETED. Moments are chosen on conditions, not durations: the
simulator is frozen (SIGSTOP) while the test picks a running job and signals its
owner, so no job can end in between; it is resumed before the lease can expire, so
the calls the owner had sent land before anyone takes the job over.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from tests.chaos.fleet import Reader, front, job_units, start_sim, submit, until
from tests.chaos.procs import Procs, Worker, kill9

pytestmark = pytest.mark.anyio

JOBS, UNITS = 5, 8
LEASE_TTL = 2.0
DONE = ("succeeded", "failed", "skipped", "blocked", "cancelled")


@contextmanager
def frozen(proc: Any) -> Iterator[None]:
    """The process stopped (SIGSTOP) for the block, resumed (SIGCONT) after it."""
    proc.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGCONT)


async def running_jobs(reader: Reader, jobs: list[str]) -> list[tuple[int, str, dict]]:
    """(cells done, job, its last JobStarted) of every RUNNING job, most done first."""
    out = []
    for job_id in jobs:
        if await reader.status(job_id) == "RUNNING" and (starts := await reader.starts(job_id)):
            out.append((len(await reader.cells(job_id, *DONE)), job_id, starts[-1]))
    return sorted(out, key=lambda x: -x[0])


async def taken_over(reader: Reader, job_id: str, fence: int) -> dict[str, Any] | None:
    starts = await reader.starts(job_id)
    return starts[-1] if starts[-1]["fence"] > fence else None


async def test_three_workers_five_jobs_one_owner_at_a_time(tmp_path: Path, redis_url: str):
    procs = Procs(tmp_path, redis_url, f"fw{uuid.uuid4().hex[:8]}")
    redis = Redis.from_url(redis_url, decode_responses=True)
    reader = Reader(redis, procs.prefix)
    groups = job_units(JOBS, UNITS)
    try:
        sim_url = start_sim(procs, [u for g in groups for u in g])
        sim = procs.started[0]
        async with front(procs, sim_url) as rt:
            fleet = [procs.worker(sim_url, LEASE_TTL, "--concurrency", "4") for _ in range(3)]
            by_id: dict[str, Worker] = {w.id: w for w in fleet}
            jobs = [await submit(rt, units) for units in groups]

            # 1. freeze the owner of a job well under way
            async def under_way() -> bool:
                return any(n >= 6 for n, *_ in await running_jobs(reader, jobs))

            await until(under_way, "a job under way")
            with frozen(sim):
                _, j1, start1 = (await running_jobs(reader, jobs))[0]
                a = by_id[start1["worker"]]
                a.signal(signal.SIGSTOP)
            new1 = await until(lambda: taken_over(reader, j1, start1["fence"]), "takeover")
            assert new1["worker"] != a.id and new1["fence"] == start1["fence"] + 1
            assert new1["resumed"]

            # 2. kill the owner of a running job (not the frozen one)
            with frozen(sim):
                live = [r for r in await running_jobs(reader, jobs) if r[2]["worker"] != a.id]
                _, j2, start2 = live[0]
                k = by_id[start2["worker"]]
                kill9(k.proc)

            # 3. the frozen owner wakes up: its writes are refused, counted
            a.signal(signal.SIGCONT)

            async def refused() -> int:
                return int((await reader.meta(j1)).get("fenced_writes") or 0)

            assert await until(refused, "a fenced write") > 0
            a.wait_line(f"job {j1}: left RUNNING (fenced)")

            # the killed owner's job goes to a live worker once its lease expired
            new2 = await until(lambda: taken_over(reader, j2, start2["fence"]), "handover")
            assert new2["worker"] != k.id and new2["fence"] == start2["fence"] + 1

            async def all_finished() -> list[str]:
                statuses = [await reader.status(j) for j in jobs]
                return statuses if all(s not in ("QUEUED", "RUNNING") for s in statuses) else []

            assert await until(all_finished, "every job finished") == ["COMPLETED"] * JOBS
            for job_id in jobs:  # each claim took the next fence: one owner at a time
                fences = [s["fence"] for s in await reader.starts(job_id)]
                assert fences == list(range(1, len(fences) + 1)), (job_id, fences)
            view = await rt.engine.get(j1)
            assert view.metrics["fenced_writes"] > 0  # what an operator reads too

            async with httpx.AsyncClient(base_url=sim_url, timeout=60) as http:
                stats = (await http.get("/_sim/stats")).json()
            assert stats["duplicate_create_attempts"] == 0, stats[
                "duplicate_create_attempts_by_type"
            ]
            for w in fleet:
                if w is not k:
                    w.signal(signal.SIGTERM)
                    assert w.exit_code() == 0
            print(
                f"fencing: {j1} taken from {a.id} by {new1['worker']} "
                f"(fenced writes {await refused()}); {j2} from killed {k.id} to "
                f"{new2['worker']}"
            )
    finally:
        await redis.aclose()
        procs.close()
    for log in tmp_path.glob("worker*.log"):
        text = log.read_text()
        assert "Traceback" not in text and "ExceptionGroup" not in text, (log.name, text[-3000:])
