"""The chaos tests' driver for `phasegrid worker` processes on a Redis of their own:
progress read from Redis, the owner of a running job killed (kill -9) and replaced,
Redis killed and restarted (plainly, or from an AOF cut at a durable barrier), and the
checks every run ends with (the jobs, the simulator's tenant, the ledgers)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from engine import Engine, EngineConfig
from engine.models import LedgerEntry
from tests.chaos.procs import Procs, Worker, kill9, sim_tenant
from tests.chaos.redis_proc import RedisProc
from tests.chaos.test_chaos import SCHEME, named
from tests.workflows.checks import check_unit
from workflows.catalog import build_registry

PREFIX = "cw"
WAIT = 240  # the bound of any one wait (a test timeout, not a schedule)


@dataclass
class Restart:
    """One Redis restart and each job's ledger (entries as stored) read before its
    durable barrier, just before the kill, and right after the restart."""

    mode: str  # "plain" (SIGKILL) or "cut" (SIGKILL, then the AOF cut at the barrier)
    synced: dict[str, list[str]]
    at_kill: dict[str, list[str]]
    after: dict[str, list[str]] = field(default_factory=dict)

    def lost(self) -> dict[str, list[str]]:
        """Entries read before the kill that the restarted Redis does not hold."""
        return {j: [e for e in es if e not in set(self.after[j])] for j, es in self.at_kill.items()}


class Fleet:
    """The jobs, the live workers and Redis, as the test drives and reads them."""

    def __init__(
        self, procs: Procs, redis: RedisProc, sim_url: str, *, lease_ttl: float, concurrency: int
    ) -> None:
        self.procs, self.redis, self.sim_url = procs, redis, sim_url
        self.lease_ttl, self.concurrency = lease_ttl, concurrency
        self.engine = Engine(redis.client, build_registry(), EngineConfig(prefix=PREFIX))
        self.jobs: list[str] = []
        self.live: dict[str, Worker] = {}
        self.killed: list[str] = []

    def start_worker(self) -> Worker:
        w = self.procs.worker(self.sim_url, self.lease_ttl, "--concurrency", str(self.concurrency))
        self.live[w.id] = w
        return w

    async def views(self) -> list[Any]:
        return [await self.redis.patient(lambda _r, j=j: self.engine.get(j)) for j in self.jobs]

    async def done(self) -> int:
        """Cells finished, over every job (as Redis counts them: a cut sets it back)."""
        views = await self.views()
        assert any(not v.status.terminal for v in views), "every job ended before the chaos"
        return sum(v.transitions_done for v in views)

    async def ledgers(self) -> dict[str, list[str]]:
        key = self.engine.store.job
        return {
            j: await self.redis.patient(lambda r, j=j: r.lrange(key(j).ledger, 0, -1))
            for j in self.jobs
        }

    async def until(self, check: Any, what: str) -> Any:
        """Poll `check()` until truthy; WAIT bounds it as a test timeout."""
        with anyio.fail_after(WAIT):
            while not (result := await check()):
                await anyio.sleep(0.05)
        return result

    async def after_cells(self, n: int) -> int:
        async def enough() -> int:
            return done if (done := await self.done()) >= n else 0

        return await self.until(enough, f"{n} cells done")

    async def owned(self) -> list[tuple[str, str]]:
        """(job, owner) of each running job whose lease a live worker holds."""
        await self.done()  # some job still runs
        lease = self.engine.store.job
        out = []
        for j in self.jobs:
            holder = await self.redis.patient(lambda r, j=j: r.get(lease(j).lease))
            if holder in self.live:
                out.append((j, holder))
        return out

    async def kill_an_owner(self, rng: random.Random) -> str:
        """SIGKILL the worker owning a running job (a seeded pick), start another."""
        owned = sorted(await self.until(self.owned, "a running job with a live owner"))
        job_id, owner = rng.choice(owned)
        kill9(self.live.pop(owner).proc)
        self.killed.append(owner)
        self.start_worker()
        return job_id

    async def restart_redis(self, mode: str, more: int) -> Restart:
        """A durable barrier; once `more` cells finished and some job's ledger grew past
        it, SIGKILL Redis and restart it (with `cut`, from the AOF cut at the barrier)."""
        synced = await self.ledgers()
        barrier = await self.redis.durable()
        start, base = await self.done(), await self.ledgers()

        async def moved_on() -> bool:
            now = await self.ledgers()
            grew = any(len(now[j]) > len(base[j]) for j in self.jobs)
            return grew and await self.done() >= start + more

        await self.until(moved_on, "cells and ledger entries past the barrier")
        at_kill = await self.ledgers()
        self.redis.kill()
        self.redis.restart(lose_after=barrier if mode == "cut" else None)
        return Restart(mode, synced, at_kill, await self.ledgers())

    async def finished(self) -> list[str]:
        """Every job's status once none is queued or running."""

        async def ended() -> list[str]:
            statuses = [v.status.value for v in await self.views()]
            return statuses if not {"QUEUED", "RUNNING"} & set(statuses) else []

        return await self.until(ended, "every job finished")

    async def check_tenant(self, sim_json: Path, units: list[Any]) -> dict[str, Any]:
        """No duplicate create; each unit's AP group, network, identity group and pool
        exactly once, configured as planned, with one passphrase; no resource of those
        kinds outside the ledgers. The simulator's stats."""
        sim, stats = await sim_tenant(self.sim_url, sim_json)
        assert sum(stats["faults_injected"].values()) > 0, stats["faults_injected"]
        assert stats["duplicate_create_attempts"] == 0, stats["duplicate_create_attempts_by_type"]
        resources = named(sim)
        names = {kind: Counter(n for _, n in items) for kind, items in resources.items()}
        for u in units:
            n = u.unit_number
            planned = {"ap_group": f"{n}-APG", "network": f"{n}-{u.ssid_name}",
                       "identity_group": f"{n}-IDG", "pool": f"{n}-DPSK"}  # fmt: skip
            for kind, name in planned.items():
                assert names[kind][name] == 1, (kind, name, names[kind][name])
            check_unit(sim, u, dpsk=True)
        recorded = {e.id for es in (await self.final_ledgers()).values() for e in es}
        orphans = [
            (kind, rid, name)
            for kind, items in resources.items()
            for rid, name in items
            if SCHEME.match(name) and rid not in recorded
        ]
        assert orphans == []
        return stats

    async def final_ledgers(self) -> dict[str, list[LedgerEntry]]:
        return {j: await self.engine.ledger(j) for j in self.jobs}

    async def check_restarts(self, restarts: list[Restart]) -> Counter[str]:
        """Every entry read before a restart's durable barrier is still there, in order;
        an entry lost by the restart (read after the barrier) has its resource, same id,
        in the final ledger: the resumed cell found it instead of creating it again.
        Returns the entries lost, by restart mode."""
        final = {j: {e.id for e in es} for j, es in (await self.final_ledgers()).items()}
        lost_total = Counter[str]()
        for r in restarts:
            for j in self.jobs:
                assert r.after[j][: len(r.synced[j])] == r.synced[j], (r.mode, j)
            lost = r.lost()
            lost_total[r.mode] += sum(map(len, lost.values()))
            if r.mode == "cut":  # the cut always loses the entries past the barrier
                assert any(lost.values()), "the cut lost nothing: the window was not exercised"
            for j, raw in lost.items():
                for e in map(LedgerEntry.model_validate_json, raw):
                    assert e.id in final[j], (r.mode, j, e.resource, e.name, e.id)
        return lost_total


def no_tracebacks(tmp_path: Path) -> None:
    for path in tmp_path.glob("worker*.log"):
        text = path.read_text()
        assert "Traceback" not in text and "ExceptionGroup" not in text, (path.name, text[-3000:])
