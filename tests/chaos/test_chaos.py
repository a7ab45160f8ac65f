"""Chaos (issue 9, acceptance 3): a `phasegrid sim` with faults (5xx=0.02,fail=0.03), a
redis-server and `phasegrid serve` as separate processes. Mid-job the serving process is
killed with SIGKILL three times (restarted each time) and Redis once (restarted on the
same data directory while a serve runs). The job completes with no duplicate create and
no orphan, the serving process outlives the Redis restart, and the job's cleanup deletes
what the job created and keeps what existed before it (an AP group the plan reused).

Kill moments come from a seeded RNG as "after N more cells finished", not wall-clock.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest
from redis.asyncio import Redis

from engine import Engine, EngineConfig
from engine.codec import dump_revealed
from engine.redis_server import EmbeddedRedis
from rpc.errors import ERROR_CODES
from tests.chaos.procs import Procs, Rpc, kill9, preseed_sim, sim_tenant
from tests.workflows.checks import shape
from workflows.catalog import build_registry
from workflows.inputs.samples import sample_units
from workflows.sim import SimConfig, Simulator

pytestmark = pytest.mark.anyio

SEED = 9_2026
FAULTS = "5xx=0.02,fail=0.03"
UNITS = 24
LEASE_TTL = 2.0  # a killed worker's job is taken over this soon
PREFIX = "chaos"
VENUE = "Sim Venue"
UNAVAILABLE = ERROR_CODES["redis_unavailable"]
TERMINAL = ("COMPLETED", "PARTIAL", "FAILED", "CANCELLED", "PAUSED")
SCHEME = re.compile(r"^\d+-(APG|IDG|DPSK|Unit-\d+)$")  # the default naming of these units


def named(sim: Any) -> dict[str, list[tuple[str, str]]]:
    """Every named resource of the kinds the job creates: kind -> [(id, name)]."""
    s = sim.store
    return {
        "ap_group": [(g.id, g.name) for g in s.ap_groups.values() if not g.isDefault],
        "network": [(n.id, n.name) for n in s.networks.values()],
        "identity_group": [(g.id, g.name) for g in s.identity_groups.values()],
        "pool": [(p.id, p.name) for p in s.pools.values()],
    }


async def job_view(rpc: Rpc, job_id: str) -> dict[str, Any] | None:
    """The job, or None while the store is unavailable (Redis restarting)."""
    doc = await rpc.post("jobs.get", {"job_id": job_id})
    if "error" in doc:
        assert doc["error"]["code"] == UNAVAILABLE, doc
        return None
    return doc["result"]


async def cells_done(rpc: Rpc, job_id: str) -> int:
    view = await job_view(rpc, job_id)
    assert view is not None
    return view["transitions_done"]


async def after_more_cells(rpc: Rpc, job_id: str, start: int, n: int) -> int:
    """Wait until `n` more cells than `start` finished (the job still running)."""
    with anyio.fail_after(120):
        while True:
            view = await job_view(rpc, job_id)
            if view is not None:
                assert view["status"] not in TERMINAL, f"ended before the chaos: {view['status']}"
                if view["transitions_done"] >= start + n:
                    return view["transitions_done"]
            await anyio.sleep(0.02)


async def until_finished(rpc: Rpc, job_id: str, timeout: float = 150) -> dict[str, Any]:
    with anyio.fail_after(timeout):
        while True:
            doc = await rpc.post("jobs.wait", {"job_id": job_id, "timeout": 5})
            view = doc.get("result")
            if view and view["status"] in TERMINAL:
                return view
            assert view or doc["error"]["code"] == UNAVAILABLE, doc


async def ledger(redis_url: str, job_id: str) -> list[Any]:
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        return await Engine(redis, build_registry(), EngineConfig(prefix=PREFIX)).ledger(job_id)
    finally:
        await redis.aclose()


async def test_serve_and_redis_killed_mid_job_no_duplicate_no_orphan_cleanup_keeps_preexisting(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    us = sample_units(UNITS)
    reused_unit = us[rng.randrange(UNITS)]
    reused_name = f"{reused_unit.unit_number}-APG"
    state = tmp_path / "sim.json"
    serials = [s for u in us for s in u.ap_serials]
    preexisting = preseed_sim(state, seed=SEED, serials=serials, groups=[reused_name])
    before = Simulator(SimConfig(snapshot_file=str(state)))

    redis_server = EmbeddedRedis(tmp_path / "redis")
    redis_url = redis_server.start()
    procs = Procs(tmp_path, redis_url, PREFIX)
    rpc: Rpc | None = None
    try:
        sim_url = procs.sim(state, seed=SEED, faults=FAULTS)
        proc, base = procs.serve(sim_url, LEASE_TTL)
        rpc = Rpc(base)
        raw = [json.loads(dump_revealed(u)) for u in us]
        params = {"workflow": "per_unit_dpsk", "units": raw, "options": {"venue": VENUE},
                  "include_units": True}  # fmt: skip
        plan = await rpc.call("jobs.plan", params)
        job_id = plan["job_id"]
        assert plan["conflicts_total"] == 0
        by_unit = {u["unit"]: u for u in plan["units"]}
        assert by_unit[reused_unit.key]["phases"]["ap_group"]["action"] == "reuse"
        view = await rpc.call("jobs.confirm", {"job_id": job_id, "digest": plan["digest"]})
        assert view["status"] in ("QUEUED", "RUNNING", "COMPLETED")
        assert view["transitions_total"] >= 6 * UNITS

        # the chaos: three serve kills and one Redis kill, in a seeded order and at seeded
        # moments (after a seeded number of further cells)
        events = ["serve", "serve", "serve", "redis"]
        rng.shuffle(events)
        done = await cells_done(rpc, job_id)
        moments = []
        for event in events:
            done = await after_more_cells(rpc, job_id, done, rng.randint(3, 12))
            moments.append((event, done))
            if event == "serve":
                kill9(proc)
                await rpc.aclose()
                proc, base = procs.serve(sim_url, LEASE_TTL)
                rpc = Rpc(base)
                continue
            assert redis_server.process is not None
            kill9(redis_server.process)  # type: ignore[arg-type]
            assert await job_view(rpc, job_id) is None  # "store unavailable", not a crash
            redis_server = EmbeddedRedis(tmp_path / "redis")
            assert redis_server.start() == redis_url  # same socket, same data directory
            with anyio.fail_after(60):
                while (doc := await rpc.post("engine.health", {})).get("result") is None:
                    assert doc["error"]["code"] == UNAVAILABLE, doc
                    await anyio.sleep(0.05)
            assert doc["result"]["redis"] == "ok"
            assert await job_view(rpc, job_id) is not None
            assert proc.poll() is None  # the serving process survived the Redis restart

        view = await until_finished(rpc, job_id)
        assert view["status"] == "COMPLETED", view
        assert view["units_by_state"].get("succeeded") == UNITS, view["units_by_state"]
        assert proc.poll() is None

        sim, stats = await sim_tenant(sim_url, state)
        assert sum(stats["faults_injected"].values()) > 0, stats["faults_injected"]
        assert stats["duplicate_create_attempts"] == 0, stats["duplicate_create_attempts_by_type"]
        resources = named(sim)
        for u in us:  # exactly one resource per planned name
            n = u.unit_number
            planned = {"ap_group": f"{n}-APG", "network": f"{n}-{u.ssid_name}",
                       "identity_group": f"{n}-IDG", "pool": f"{n}-DPSK"}  # fmt: skip
            for kind, name in planned.items():
                count = Counter(nm for _, nm in resources[kind])[name]
                assert count == 1, (kind, name, count)
        entries = await ledger(redis_url, job_id)
        recorded = {e.id: e.action for e in entries}
        assert recorded[preexisting[reused_name]] == "reused"
        orphans = [
            (kind, rid, name)
            for kind, items in resources.items()
            for rid, name in items
            if SCHEME.match(name) and rid not in recorded and rid not in preexisting.values()
        ]
        assert orphans == []

        # the cleanup deletes what the job created and keeps the operator's AP group
        cleanup = await rpc.call("jobs.cleanup", {"job_id": job_id})
        step = (
            await rpc.call("jobs.unit", {"job_id": cleanup["job_id"], "unit": reused_unit.key})
        )["plan"]["ap_groups"]
        assert step["action"] == "skip" and f"keep ap_group {reused_name}: existed before" in (
            step["detail"] or ""
        ), step  # kept because the operator's, whatever else it holds
        confirm = {"job_id": cleanup["job_id"], "digest": cleanup["digest"], "confirm_text": VENUE}
        await rpc.call("jobs.confirm", confirm)
        view = await until_finished(rpc, cleanup["job_id"])
        assert view["status"] == "COMPLETED", view
        after, _ = await sim_tenant(sim_url, state)
        group = after.store.ap_groups.get(preexisting[reused_name])
        assert group is not None and group.name == reused_name
        kept = ids(named(after)) - ids(named(before))
        for name, doc in (("ledger", [e.model_dump() for e in entries]), ("cleanup", cleanup)):
            (tmp_path / f"{name}.json").write_text(json.dumps(doc, indent=1))  # to diagnose
        kind_of = {e.id: e.resource for e in entries}
        # kept: only what the ledger cannot prove the job created, and what still holds
        # it (R1 refuses to delete an AP group holding an AP, an identity group its pool)
        stays = may_stay(entries)
        assert kept <= stays, sorted((kind_of.get(r), r) for r in kept - stays)
        # and the cleanup plan lists every kept resource (counts by kind)
        listed = cleanup["global_phases"]["globals"]["data"].get("kept", {})
        for kind, n in Counter(kind_of[rid] for rid in kept).items():
            assert n <= listed.get(kind, 0), (kind, n, listed)
        assert listed.get("ap_group", 0) >= 1  # the operator's, reused
        # everything else is as it was before the job (APs back in their groups)
        moved = {e.id for e in entries if e.resource == "ap" and e.action == "unknown"}
        assert without(after, kept, moved) == without(before, kept, moved)
        print(
            f"chaos: kills at {moments} of {view['transitions_total']} cells; faults "
            f"{stats['faults_injected']}; ledger {dict(Counter(recorded.values()))}; "
            f"kept after cleanup {dict(Counter(kind_of[r] for r in kept))}"
        )
    finally:
        if rpc is not None:
            await rpc.aclose()
        procs.close()
        redis_server.stop(force=True)
    for log in tmp_path.glob("serve*.log"):
        text = log.read_text()
        assert "Traceback" not in text and "ExceptionGroup" not in text, (log.name, text[-3000:])


def ids(resources: dict[str, list[tuple[str, str]]]) -> set[str]:
    return {rid for items in resources.values() for rid, _ in items}


HOLDER_KEYS = ("ap_group_id", "identity_group_id", "pool_id")


def may_stay(entries: list[Any]) -> set[str]:
    """Ids a cleanup may keep: "unknown" ones, and (transitively) whatever holds them."""
    unknown = [e for e in entries if e.action == "unknown"]
    stays = {e.id for e in unknown}
    held = list(unknown)
    while held:
        e = held.pop()
        up = [e.parent[k] for k in HOLDER_KEYS if k in e.parent]
        if e.resource == "activation":
            up.append(e.id)  # a network keeps its activations
        for rid in up:
            if rid not in stays:
                stays.add(rid)
                held.extend(x for x in entries if x.id == rid)
    return stays


def without(sim: Simulator, kept: set[str], moved: set[str]) -> dict[str, Any]:
    """The tenant's `shape()` minus the kept resources (and what is in them) and the APs
    whose move the ledger could not prove (left where they are)."""
    tenant = shape(sim)
    out = dict(tenant)
    pools = sim.store.pools.values()
    out["passphrases"] = sum(len(p.passphrases) for p in pools if p.id not in kept)
    out["aps"] = [a for a in tenant["aps"] if a[0] not in moved]
    out["groups"] = [g for g in tenant["groups"] if g[0] not in kept]
    for key in ("networks", "identity", "pools"):
        out[key] = [r for r in tenant[key] if r not in kept]
    out["activations"] = [a for a in tenant["activations"] if a[1] not in kept]
    return out
