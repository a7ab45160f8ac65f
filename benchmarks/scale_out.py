"""Scale-out: the same jobs run by 1, 2 and 4 `phasegrid worker` processes.

Real processes throughout: a redis-server (the embedded binary, AOF on), a
`phasegrid sim` per tenant (its own tenant id, so its own rate limiter in Redis,
far above what the workers send), and N `phasegrid worker` processes per tenant
(a worker runs the jobs of one target), each capped at `--concurrency` cells in
flight. An engine in this process that runs no job plans and confirms every job
first; then the workers start and pull them from the queue.

The work is latency-bound, not CPU-bound: a cell holds its in-flight slot while
it makes calls, each taking `--latency` seconds at the simulator, and lets it go
while its activity runs (`--activity` seconds), so one worker is limited by its
cap over the call latency. The makespan runs from the first claim to the last
job finished, read from the jobs' own timestamps in Redis. Every job must end
COMPLETED and every simulator must report `duplicate_create_attempts == 0`.

    python -m benchmarks.scale_out [--jobs 20] [--units 50] [--tenants 1]
        [--concurrency 8] [--latency 0.04] [--activity 0.2] [--quick]

One line per fleet size (makespan, calls, cells/s, CPU seconds of the workers,
simulators and Redis, speedup over 1 worker), then `scale_out_2_workers=<x>`
and, last, `scale_out_4_workers=<x>`. With several tenants each runs as many
jobs on its own workers: the speedup is then bounded by whole jobs per worker
(4 tenants x 5 jobs on 4 workers each: one worker runs 2 jobs, at most 2.5x).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx

from tests.chaos.procs import first_line  # the banner reader the process tests use

ROOT = Path(__file__).resolve().parents[1]
FLEETS = (1, 2, 4)
TERMINAL = ("COMPLETED", "PARTIAL", "FAILED", "CANCELLED", "PAUSED")
VENUE = "Sim Venue"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (psutil if installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


class Fleet:
    """The processes of one run, killed at the end whatever happened."""

    def __init__(self, tmp: Path, redis_url: str, prefix: str) -> None:
        self.tmp, self.redis_url, self.prefix = tmp, redis_url, prefix
        self.sims: list[subprocess.Popen[str]] = []
        self.urls: list[str] = []
        self.workers: list[subprocess.Popen[str]] = []
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("PHASEGRID", "R1_"))}
        # one data directory for all: the workers open the inputs the front sealed
        self.env = {**keep, "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(tmp / "xdg")}

    def _spawn(self, log: str, *args: str) -> subprocess.Popen[str]:
        with (self.tmp / log).open("w") as err:
            return subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=self.env,
                stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True,
            )  # fmt: skip

    def sim(self, tenant: str, state: Path, args: argparse.Namespace) -> str:
        """A simulator of its own tenant whose venue holds the units' APs; its URL.
        Its R1 second lasts `--activity` seconds (the client's polls keep that pace);
        each call takes `--latency` seconds."""
        scale = args.activity
        flags = [
            "--port", "0", "--profile", "demo", "--seed", "11", "--contract", "off",
            "--time-scale", f"{scale:g}", "--activity-latency", "1",
            "--call-latency", f"{args.latency / scale:g}", "--tenant-id", tenant,
            "--state", str(state), "--rate-limit", "1000000", "--rate-burst", "1000000",
        ]  # fmt: skip
        self.sims.append(self._spawn(f"{tenant}.log", "sim", *flags))
        self.urls.append(first_line(self.sims[-1], "R1 simulator on ", 120).split()[3])
        return self.urls[-1]

    def worker(self, sim_url: str, concurrency: int) -> None:
        flags = [
            "--redis-url", self.redis_url, "--prefix", self.prefix, "--sim-url", sim_url,
            "--concurrency", str(concurrency), "--log-level", "warning",
        ]  # fmt: skip
        self.workers.append(self._spawn(f"worker{len(self.workers)}.log", "worker", *flags))

    def close(self) -> None:
        for proc in [*self.sims, *self.workers]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            if proc.stdout:
                proc.stdout.close()


@dataclass
class Run:
    workers: int
    makespan: float
    cells: int
    calls: int
    cpu_workers: float
    cpu_sims: float
    cpu_redis: float
    jobs_per_worker: list[int]
    completed: int
    duplicates: int


def preseed(state: Path, serials: list[str]) -> None:
    """The simulator's starting tenant: a venue holding the units' APs."""
    from workflows.sim import SimConfig, Simulator

    Simulator(SimConfig(seed=11, aps=4, extra_ap_serials=serials, state_file=str(state))).save()


async def plan_jobs(rt: Any, units: list[Any], jobs: int) -> list[Any]:
    from engine.codec import dump_revealed

    size = len(units) // jobs
    plans: list[Any] = [None] * jobs

    async def plan(j: int) -> None:
        raw = [json.loads(dump_revealed(u)) for u in units[j * size : (j + 1) * size]]
        plans[j] = await rt.engine.plan("per_unit_dpsk", raw, {"venue": VENUE})
        assert plans[j].summary.conflicts == 0, plans[j].summary

    async with anyio.create_task_group() as tg:  # their inventory calls overlap
        for j in range(jobs):
            tg.start_soon(plan, j)
    return plans


async def usage(fleet: Fleet, redis: Any) -> list[float]:
    """[sims' CPU s, Redis CPU s, calls answered]: what a run used is the difference."""
    info = await redis.info("cpu")
    calls = [(await sim_stats(url))["requests_total"] for url in fleet.urls]
    return [
        sum(cpu_seconds(p.pid) for p in fleet.sims),
        float(info["used_cpu_sys"]) + float(info["used_cpu_user"]),
        float(sum(calls)),
    ]


async def run_fleet(args: argparse.Namespace, n: int, redis_url: str, tmp: Path) -> Run:
    """Plan and confirm every job, then start `n` workers per tenant and wait for
    the last job to finish."""
    from app.runtime import RuntimeSettings, open_runtime
    from engine import EngineConfig
    from engine.keys import GlobalKeys
    from workflows.inputs.samples import sample_units

    prefix = f"so{n}{uuid.uuid4().hex[:6]}"
    fleet = Fleet(tmp, redis_url, prefix)
    per_tenant = args.jobs // args.tenants
    try:
        async with AsyncExitStack() as stack:
            fronts, plans = [], []
            for t in range(args.tenants):
                units = sample_units(per_tenant * args.units)
                state = tmp / f"run{n}-tenant{t}.json"
                preseed(state, [s for u in units for s in u.ap_serials])
                url = fleet.sim(f"tenant-{t}", state, args)
                settings = RuntimeSettings(
                    redis_url=redis_url, data_dir=tmp / "xdg" / "phasegrid", backend="sim-url",
                    sim_url=url, worker=False, engine=EngineConfig(prefix=prefix),
                )  # fmt: skip
                fronts.append(await stack.enter_async_context(open_runtime(settings)))
                plans.append(await plan_jobs(fronts[-1], units, per_tenant))
            for j in range(per_tenant):  # all queued, the tenants' jobs interleaved
                for rt, tenant_plans in zip(fronts, plans, strict=True):
                    await rt.engine.confirm(tenant_plans[j].job_id, tenant_plans[j].digest)
            redis = fronts[0].redis
            before = await usage(fleet, redis)
            for url in fleet.urls:
                for _ in range(n):
                    fleet.worker(url, args.concurrency)
            started = 0.0
            for proc in fleet.workers:  # from its banner on it claims jobs
                first_line(proc, "phasegrid worker ", 120)
                started += cpu_seconds(proc.pid)
            job_ids = [p.job_id for tenant_plans in plans for p in tenant_plans]
            metas = await finished(redis, GlobalKeys(prefix), job_ids, args.timeout)
            workers = sum(cpu_seconds(p.pid) for p in fleet.workers) - started
            used = [b - a for a, b in zip(before, await usage(fleet, redis), strict=True)]
            dups = [(await sim_stats(url))["duplicate_create_attempts"] for url in fleet.urls]
    finally:
        fleet.close()
    completed = sum(m["status"] == "COMPLETED" for m in metas)
    assert completed == len(metas), f"{len(metas) - completed} job(s) not COMPLETED"
    assert sum(dups) == 0, f"the simulators saw {dups} duplicate creates"
    owners: dict[str, int] = {}
    for m in metas:
        owners[m["worker"]] = owners.get(m["worker"], 0) + 1
    first = min(float(m["started_at"]) for m in metas)
    return Run(
        workers=n,
        makespan=max(float(m["finished_at"]) for m in metas) - first,
        cells=sum(int(m.get("transitions") or 0) for m in metas),
        calls=int(used[2]),
        cpu_workers=workers,
        cpu_sims=used[0],
        cpu_redis=used[1],
        jobs_per_worker=sorted(owners.values(), reverse=True),
        completed=completed,
        duplicates=sum(dups),
    )


async def finished(redis: Any, keys: Any, job_ids: list[str], timeout: float) -> list[dict]:
    """The jobs' metas once every job has ended (each with its own timestamps)."""
    with anyio.fail_after(timeout):
        while True:
            metas = [await redis.hgetall(keys.job(j).meta) for j in job_ids]
            if all(m.get("status") in TERMINAL for m in metas):
                return metas
            await anyio.sleep(0.2)


async def sim_stats(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return (await http.get("/_sim/stats")).json()


def report(run: Run, base: Run, tenants: int) -> str:
    busy = run.cpu_workers + run.cpu_sims + run.cpu_redis
    return (
        f"workers={run.workers * tenants} ({run.workers} per tenant) "
        f"completed={run.completed} duplicate_creates={run.duplicates} "
        f"makespan={run.makespan:.1f}s calls={run.calls} cells={run.cells} "
        f"cells_per_s={run.cells / run.makespan:.0f} cpu_s: workers={run.cpu_workers:.1f} "
        f"sims={run.cpu_sims:.1f} redis={run.cpu_redis:.1f} "
        f"(avg {busy / run.makespan:.2f} cores) "
        f"jobs_per_worker={'/'.join(map(str, run.jobs_per_worker))} "
        f"speedup={base.makespan / run.makespan:.2f}"
    )


async def main_async(args: argparse.Namespace) -> None:
    from engine.redis_server import EmbeddedRedis

    print(
        f"scale_out: {args.jobs} jobs x {args.units} units of per_unit_dpsk, "
        f"{args.tenants} tenant(s); {args.concurrency} cells in flight per worker; "
        f"{args.latency:g}s a call, {args.activity:g}s an activity; {os.cpu_count()} cores",
        flush=True,
    )
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="pg-scale-") as tmp,
        EmbeddedRedis(Path(tmp) / "redis", appendonly=True) as server,
    ):
        for n in FLEETS:
            runs.append(await run_fleet(args, n, server.url, Path(tmp)))
            print(report(runs[-1], runs[0], args.tenants), flush=True)
    for run in runs[1:]:
        print(f"scale_out_{run.workers}_workers={runs[0].makespan / run.makespan:.2f}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=20, help="jobs in all (default 20)")
    p.add_argument("--units", type=int, default=50, help="units per job (default 50)")
    p.add_argument("--tenants", type=int, default=1, help="simulated tenants (default 1)")
    p.add_argument("--concurrency", type=int, default=8, help="cells in flight per worker")
    p.add_argument("--latency", type=float, default=0.04, help="seconds a call takes")
    p.add_argument("--activity", type=float, default=0.2, help="seconds an activity takes")
    p.add_argument("--timeout", type=float, default=900, help="seconds a run may take")
    p.add_argument("--quick", action="store_true", help="a small run (a smoke test)")
    args = p.parse_args(argv)
    if args.quick:
        args.jobs, args.units, args.concurrency, args.latency, args.activity = 4, 3, 4, 0.02, 0.05
    if args.jobs < 1 or args.units < 1 or args.tenants < 1 or args.jobs % args.tenants:
        p.error("--jobs must be a positive multiple of --tenants (each runs as many jobs)")
    if args.concurrency < 1 or args.latency < 0 or args.activity <= 0:
        p.error("--concurrency must be at least 1, --latency >= 0, --activity > 0")
    return args


def main() -> None:
    anyio.run(main_async, parse_args())


if __name__ == "__main__":
    main()
