"""Issue 11 acceptance (chaos): `phasegrid worker` processes killed with SIGKILL, and
their Redis killed and restarted, in the middle of 100-unit `per_unit_dpsk` jobs.

A `phasegrid sim` process (seeded, with 5xx, lost-reply and transient activity faults),
a redis-server process of the test's own (AOF, `appendfsync everysec`) and workers as
processes. At seeded moments ("after N more cells finished", read from Redis, never a
duration) the owner of a running job is killed (kill -9) and a new worker started, and
Redis is killed and restarted on its data directory: plainly (what a process crash
loses), or with its AOF cut back to a durable barrier (the most a host crash within
the `everysec` fsync window can lose: everything after the last fsync).

Asserted, for every job: it ends COMPLETED with every unit succeeded; the simulator saw
no duplicate create; every unit's AP group, network, identity group and DPSK pool exist
exactly once, configured as planned, with exactly one passphrase; no resource of those
kinds exists outside the jobs' ledgers (no orphan). For every Redis restart: every
ledger entry read before its durable barrier is still there, in order (nothing fsynced
is lost); an entry read after the barrier but before the kill may be gone (the window;
the cut always loses some), and then its resource is in the final ledger with the same
id: the resumed cell found it rather than creating it again (idempotent resume).

`PHASEGRID_CHAOS_LONG=1` runs the long variant (50 kills, 5 jobs x 100 units, 3 live
workers, a Redis restart every five kills); without it, the CI variant (about a minute).
"""

from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chaos.fleet import front, job_units, start_sim, submit
from tests.chaos.kills import Fleet, Restart, no_tracebacks
from tests.chaos.procs import Procs
from tests.chaos.redis_proc import RedisProc

pytestmark = pytest.mark.anyio

FAULTS = "5xx=0.02,lost=0.01,fail=0.03"
LEASE_TTL = 1.5  # a killed worker's job is taken over this soon


@dataclass(frozen=True)
class Chaos:
    jobs: int
    units: int  # per job
    kills: int  # worker kills
    redis_every: int  # a Redis restart after every this many worker kills
    workers: int  # live at once
    concurrency: int  # cells in flight per worker
    seed: int


CI = Chaos(jobs=1, units=100, kills=10, redis_every=5, workers=1, concurrency=16, seed=11_2026)
LONG = Chaos(jobs=5, units=100, kills=50, redis_every=5, workers=3, concurrency=16, seed=11_2027)


def plan_events(rng: random.Random, chaos: Chaos) -> list[str]:
    """The worker kills and Redis restarts (plain and cut in turn), in a seeded order."""
    events: list[str] = []
    for i in range(chaos.kills):
        events.append("worker")
        if (i + 1) % chaos.redis_every == 0:
            events.append(("plain", "cut")[(i // chaos.redis_every) % 2])
    rng.shuffle(events)
    return events


async def test_workers_and_redis_killed_mid_job_every_job_completes_no_duplicate_no_orphan(
    tmp_path: Path,
) -> None:
    chaos = LONG if os.environ.get("PHASEGRID_CHAOS_LONG") == "1" else CI
    rng = random.Random(chaos.seed)
    began = time.monotonic()
    redis = RedisProc(tmp_path / "redis")
    procs = Procs(tmp_path, redis.url, "cw")
    groups = job_units(chaos.jobs, chaos.units)
    restarts: list[Restart] = []
    try:
        sim_url = start_sim(procs, [u for g in groups for u in g], faults=FAULTS, seed=chaos.seed)
        fleet = Fleet(procs, redis, sim_url, lease_ttl=LEASE_TTL, concurrency=chaos.concurrency)
        async with front(procs, sim_url) as rt:
            fleet.jobs = [await submit(rt, units) for units in groups]
        total = sum(v.transitions_total for v in await fleet.views())
        for _ in range(chaos.workers):
            fleet.start_worker()

        # the chaos, at seeded moments over the first 85% of the cells
        events = plan_events(rng, chaos)
        moments = sorted(rng.sample(range(1, int(total * 0.85)), len(events)))
        log: list[tuple[str, int]] = []
        for event, moment in zip(events, moments, strict=True):
            done = await fleet.after_cells(max(moment, await fleet.done() + 1))
            log.append((event, done))
            if event == "worker":
                await fleet.kill_an_owner(rng)
            else:
                restarts.append(await fleet.restart_redis(event, rng.randint(5, 20)))

        assert await fleet.finished() == ["COMPLETED"] * chaos.jobs
        for view in await fleet.views():
            assert view.units_by_state["succeeded"] == chaos.units, view.units_by_state
            assert view.transitions_done == view.transitions_total
        stats = await fleet.check_tenant(tmp_path / "sim.json", [u for g in groups for u in g])
        lost = await fleet.check_restarts(restarts)
        assert len(fleet.killed) == chaos.kills and redis.restarts == len(restarts)
        print(
            f"chaos {chaos}: {len(fleet.killed)} worker kills and {redis.restarts} Redis "
            f"restarts at {log} of {total} cells; ledger entries lost by restarts "
            f"{dict(lost)}; faults {stats['faults_injected']}; {time.monotonic() - began:.0f}s"
        )
        for w in fleet.live.values():
            w.signal(signal.SIGTERM)
        for w in fleet.live.values():
            assert w.exit_code() == 0
    finally:
        procs.close()
        await redis.close()
    no_tracebacks(tmp_path)


async def test_redis_back_short_of_acknowledged_writes_the_worker_resumes_from_what_it_holds(
    tmp_path: Path,
) -> None:
    """Regression: Redis restarted from an AOF missing writes it had acknowledged (a
    host crash within the fsync window) while the job's worker kept its lease (TTL far
    beyond the outage). The worker's journal was ahead of Redis and went on flushing on
    top of it: the job ended COMPLETED with the window's ledger entries gone (their
    resources orphans) and its cells stale. Now the first batch not landing on top of
    the worker's previous one is refused (`lost`), the worker stops the job and claims
    it again, and the resumed cells find what the window created."""
    redis = RedisProc(tmp_path / "redis")
    procs = Procs(tmp_path, redis.url, "cw")
    units = job_units(1, 30)[0]
    try:
        sim_url = start_sim(procs, units, faults=FAULTS, seed=7)
        fleet = Fleet(procs, redis, sim_url, lease_ttl=60, concurrency=8)
        async with front(procs, sim_url) as rt:
            fleet.jobs = [await submit(rt, units)]
        w = fleet.start_worker()
        await fleet.after_cells(40)
        restart = await fleet.restart_redis("cut", 10)
        assert await fleet.finished() == ["COMPLETED"]
        [job_id] = fleet.jobs
        assert (await fleet.views())[0].units_by_state["succeeded"] == len(units)
        await fleet.check_tenant(tmp_path / "sim.json", units)
        assert (await fleet.check_restarts([restart]))["cut"] > 0
        assert (await fleet.views())[0].metrics["lost_batches"] >= 1  # what operators read
        starts = [
            e.event for e in await fleet.engine.events(job_id) if e.event.type == "job_started"
        ]
        assert [(s.worker, s.fence, s.resumed) for s in starts] == [
            (w.id, 1, False),
            (w.id, 2, True),
        ]
        w.signal(signal.SIGTERM)
        assert w.exit_code() == 0
    finally:
        procs.close()
        await redis.close()
    no_tracebacks(tmp_path)
