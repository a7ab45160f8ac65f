"""The contenders, each on a fresh simulator with the same config (its own clock):
phasegrid as shipped (`app.runtime`: plan, confirm, wait), and the usual designs
run directly on the same `R1Client` with the documented limiter at the same time
scale: the phase barrier and the sequential loop (`benchmarks.makespan.steps`)."""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx

from benchmarks.makespan.state import normalize
from benchmarks.makespan.steps import PHASES, Runner
from benchmarks.makespan.workload import PROFILE, VENUE, WORKFLOW, Workload, wants
from workflows.sim import Simulator

BARRIER_IN_FLIGHT = 20


@dataclass
class Outcome:
    """What one contender did, read from its simulator."""

    name: str
    units: int
    """Units actually run (the makespan is scaled from them to `target_units`)."""
    target_units: int
    time_scale: float
    measured: float
    """R1 seconds from the first write to the last activity done, for `units`."""
    wall: float
    cpu: float
    requests: dict[str, int]
    rate_limited: int
    log: list[dict[str, Any]]
    state: dict[str, Any]
    factor: float = 1.0
    """Extrapolation from `units` to `target_units` (1: run at full size)."""
    how: str = ""
    estimate: float | None = None
    """The plan's `estimated_seconds` (ours: time scale applied) in R1 seconds."""
    inventory: dict[str, int] = field(default_factory=dict)
    """Phase 0's reads by route (phasegrid's plan)."""

    @property
    def makespan(self) -> float:
        return self.measured * self.factor


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


async def run_phasegrid(work: Workload, scale: float) -> Outcome:
    from app.runtime import RuntimeSettings

    with tempfile.TemporaryDirectory(prefix="makespan-") as data_dir:
        settings = RuntimeSettings(
            data_dir=Path(data_dir), sim_profile=PROFILE, sim_seed=work.seed,
            sim_time_scale=scale, sim_extra_serials=work.serials, sim_aps=0,
        )  # fmt: skip
        return await _phasegrid(work, scale, settings)


async def _phasegrid(work: Workload, scale: float, settings: Any) -> Outcome:
    from app.runtime import open_runtime

    async with open_runtime(settings) as rt:
        sim: Simulator = rt.sim
        assert sim.config == work.sim_config(scale), "phasegrid's simulator differs"
        wall0, cpu0 = time.monotonic(), time.process_time()
        before = dict(sim.stats()["requests"])
        plan = await rt.engine.plan(
            WORKFLOW, [u.model_dump() for u in work.units], work.options.model_dump(mode="json")
        )
        if plan.summary.conflicts:
            raise RuntimeError(f"phasegrid's plan has conflicts: {plan.summary.headline()}")
        inventory = _diff(dict(sim.stats()["requests"]), before)
        started = time.monotonic()
        await rt.engine.confirm(plan.job_id, plan.digest)
        view = await rt.engine.wait(plan.job_id, timeout=3 * 3600)
        ended = time.monotonic()
        if str(view.status).rsplit(".", 1)[-1].upper() != "COMPLETED":
            raise RuntimeError(f"phasegrid's job ended {view.status}: {view.units_by_state}")
        stats = sim.stats()
        return Outcome(
            name="phasegrid", units=len(work.units), target_units=len(work.units),
            time_scale=scale, measured=(ended - started) / scale,
            wall=time.monotonic() - wall0, cpu=time.process_time() - cpu0,
            requests=dict(stats["requests"]), rate_limited=stats["rate_limited"],
            log=sim.activity_log(), state=normalize(sim, wants(work)),
            estimate=(plan.summary.estimated_seconds / scale) or None, inventory=inventory,
            how="plan, confirm, wait (app.runtime); makespan from confirm to the job's end",
        )  # fmt: skip


def _client(sim: Simulator) -> Any:
    from app.runtime import sim_limits, sim_pacing
    from workflows.r1 import R1Client, R1Config
    from workflows.r1.transport import documented_limiter
    from workflows.sim.ratelimit import rate_limit_info

    cfg = sim.config
    r1_cfg = R1Config(
        client_id=cfg.client_id, client_secret=cfg.client_secret, tenant_id=cfg.tenant_id,
        base_url="http://sim", **sim_pacing(cfg.profile, cfg.time_scale),
        **sim_limits(rate_limit_info(cfg)),
    )  # fmt: skip
    return R1Client(
        r1_cfg,
        rate_limiter=documented_limiter(r1_cfg),
        transport=httpx.ASGITransport(app=sim.app),
    )


async def _venue_id(client: Any) -> str:
    for venue in await client.list_venues(search=VENUE):
        if venue.name == VENUE:
            return str(venue.id)
    raise RuntimeError(f"venue {VENUE!r} not found")


async def run_barrier(work: Workload, scale: float, target_units: int) -> Outcome:
    """Each phase for every unit, at most 20 units in flight, before the next phase."""
    sim = Simulator(work.sim_config(scale))
    us = wants(work)
    wall0, cpu0 = time.monotonic(), time.process_time()
    async with _client(sim) as client:
        runner = Runner(client, await _venue_id(client), together=True, csv_passphrases=True)
        started = time.monotonic()
        for phase in PHASES:
            slots = anyio.CapacityLimiter(BARRIER_IN_FLIGHT)

            async def one(u: Any, phase: str = phase, slots: Any = slots) -> None:
                async with slots:
                    await runner.step(phase, u)

            async with anyio.create_task_group() as tg:
                for u in us:
                    tg.start_soon(one, u)
            if phase == "ap_group":  # their ids: one listing of the venue's groups
                ids = {g.name: g.id for g in await client.list_ap_groups(venue_id=runner.venue_id)}
                for u in us:
                    u.ids["ap_group"] = ids[u.ap_group]
        ended = time.monotonic()
    waves = -(-target_units // BARRIER_IN_FLIGHT) / -(-len(us) // BARRIER_IN_FLIGHT)
    how = f"{BARRIER_IN_FLIGHT} units in flight per phase, each activity polled every 3 R1-s"
    if len(us) != target_units:
        how += (
            f"; run on the first {len(us)} units and extrapolated to {target_units} by waves of "
            f"{BARRIER_IN_FLIGHT} (x{waves:g})"
        )
    return _direct("barrier", sim, us, scale, target_units, started, ended, wall0, cpu0,
                   waves, how)  # fmt: skip


async def run_sequential(work: Workload, scale: float, target_units: int) -> Outcome:
    """One unit-phase at a time, every write waited for before the next."""
    sim = Simulator(work.sim_config(scale))
    us = wants(work)
    wall0, cpu0 = time.monotonic(), time.process_time()
    async with _client(sim) as client:
        runner = Runner(client, await _venue_id(client), together=False, csv_passphrases=False)
        started = time.monotonic()
        for u in us:
            for phase in PHASES:
                await runner.step(phase, u)
        ended = time.monotonic()
    factor = target_units / len(us)
    how = "one unit-phase at a time, passphrases one call each, each activity polled every 3 R1-s"
    if len(us) != target_units:
        how += (
            f"; first {len(us)} units only, extrapolated linearly to {target_units} (x{factor:g})"
        )
    return _direct("sequential", sim, us, scale, target_units, started, ended, wall0, cpu0,
                   factor, how)  # fmt: skip


def _direct(
    name: str, sim: Simulator, us: list[Any], scale: float, target_units: int,
    started: float, ended: float, wall0: float, cpu0: float, factor: float, how: str,
) -> Outcome:  # fmt: skip
    stats = sim.stats()
    return Outcome(
        name=name, units=len(us), target_units=target_units, time_scale=scale,
        measured=(ended - started) / scale, wall=time.monotonic() - wall0,
        cpu=time.process_time() - cpu0, requests=dict(stats["requests"]),
        rate_limited=stats["rate_limited"], log=sim.activity_log(), state=normalize(sim, us),
        factor=factor, how=how,
    )  # fmt: skip


def kinds(requests: dict[str, int]) -> Counter[str]:
    """Calls by kind: writes, reads (queries, GETs, the token) and polls (activities)."""
    out: Counter[str] = Counter()
    for route, n in requests.items():
        method, _, path = route.partition(" ")
        if path.startswith("/activities"):
            out["polls"] += n
        elif method == "GET" or path.endswith("/query") or path.startswith("/oauth2/"):
            out["reads"] += n
        else:
            out["writes"] += n
    return out
