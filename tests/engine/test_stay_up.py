"""Staying up: a worker rides out a Redis outage (and, past its lease, stops and
resumes the job when Redis is back), a retried flush lands once, a job whose
planner process died is failed with its inputs purged, and SIGTERM shuts a
process down like SIGINT (its embedded Redis stopped, its leases released).

Redis here is a real redis-server, killed with SIGKILL where the test says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
import pytest
import redis as redis_sync
from redis.asyncio import Redis

from engine import JobStatus
from engine.planner_lease import DEAD_PLANNER, reap_dead_planners
from engine.redis_server import EmbeddedRedis, _ping
from engine.store import Store
from tests.engine import stayup_flows
from tests.envs import child_env

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("hunter2-u1", "hunter2-u2")


def env(**extra: str) -> dict[str, str]:
    base = child_env()
    return {**base, "PYTHONPATH": str(ROOT), **extra}


async def until(condition, timeout: float = 60.0, what: str = "condition") -> None:
    """Wait for a condition the test cannot be notified of (a file, another process)."""
    with anyio.fail_after(timeout):
        while not await condition():
            await anyio.sleep(0.02)


# -- a Redis outage under a running job ---------------------------------------------------


async def test_a_worker_outlives_an_outage_longer_than_its_lease(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    gate, marker = tmp_path / "gate", tmp_path / "marker"
    redis = Redis.from_url(url, decode_responses=True)
    eng = stayup_flows.engine(redis, "s", lease_ttl=1.0)
    units = [{"name": "hold1"}, {"name": "u2"}]
    try:
        async with eng.running():
            plan = await eng.plan("gated", units, {"gate": str(gate), "marker": str(marker)})
            await eng.confirm(plan.job_id, plan.digest)

            async def held() -> bool:
                return marker.exists()

            await until(held)
            server.process.kill()  # SIGKILL: Redis is gone mid-job
            server.process.wait()

            async def dropped() -> bool:  # a TTL without renewal: stopped, fenced
                return not eng.worker.running_jobs()

            await until(dropped)
            gate.touch()
            server = EmbeddedRedis(tmp_path / "redis")
            assert server.start() == url  # same socket, same data (AOF)
            view = await eng.wait(plan.job_id, timeout=60)
            events = [e.event for e in await eng.events(plan.job_id)]
    finally:
        await redis.aclose()
        server.stop(force=True)
    assert view.status == JobStatus.COMPLETED, view
    assert view.units_by_state["succeeded"] == 2
    started = [e for e in events if e.type == "job_started"]
    assert [s.resumed for s in started] == [False, True]  # re-claimed after the outage
    assert started[1].fence > started[0].fence


async def test_a_retried_flush_batch_lands_once(redis, prefix):
    store = Store(redis, prefix=prefix)
    batch = dict(fence=None, cells={}, values={}, attempts={}, counts={}, meta={},
                 events=['{"type":"log"}'], ledger=['{"seq":1}'])  # fmt: skip
    await store.flush("j", **batch, batch="journal:1")
    await store.flush("j", **batch, batch="journal:1")  # the reply was lost: sent again
    k = store.job("j")
    assert await redis.xlen(k.events) == 1 and await redis.llen(k.ledger) == 1
    await store.flush("j", **batch, batch="journal:2")
    assert await redis.xlen(k.events) == 2 and await redis.llen(k.ledger) == 2


# -- a planner that dies ----------------------------------------------------------------------


async def test_a_job_whose_planner_was_killed_fails_with_its_inputs_purged(
    redis, redis_url, prefix, tmp_path
):
    gate, marker = tmp_path / "gate", tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.engine.stayup_flows", redis_url, prefix, str(marker),
         str(gate)],
        env=env(), cwd=ROOT,
    )  # fmt: skip
    try:

        async def planning() -> bool:
            assert proc.poll() is None, "the planner exited early"
            return marker.exists() and bool(marker.read_text())

        await until(planning)
    finally:
        proc.kill()  # SIGKILL while planning
        proc.wait()
    job_id = marker.read_text()
    k = Store(redis, prefix=prefix).job(job_id)
    face = stayup_flows.engine(redis, prefix)
    assert (await face.get(job_id)).status == JobStatus.PLANNING  # what the dead left behind
    assert await redis.hlen(k.inputs) == 2

    other = stayup_flows.engine(redis, prefix)
    async with other.running():  # its recovery loop notices the lapsed planner lease

        async def settled() -> bool:
            return (await other.get(job_id)).status != JobStatus.PLANNING

        await until(settled, timeout=30)
    view = await other.get(job_id)
    assert view.status == JobStatus.FAILED and view.error == DEAD_PLANNER
    assert not await redis.exists(k.inputs)
    reasons = [e.event.reason for e in await other.events(job_id) if e.event.type == "job_status"]
    assert reasons == [DEAD_PLANNER]
    assert job_id not in await other.store.leases.planning_jobs()
    dump = "".join([str(v) for v in (await redis.hgetall(k.meta)).values()])
    assert not any(s in dump for s in SECRETS)


async def test_a_live_planner_outlasting_its_lease_ttl_keeps_its_job(redis, prefix, tmp_path):
    gate, marker = tmp_path / "gate", tmp_path / "marker"
    planner = stayup_flows.engine(redis, prefix, planner_lease_ttl=1.0)
    plans = []

    async def plan() -> None:
        units = [{"name": "u1"}]
        plans.append(await planner.plan("slow_plan", units, {"gate": str(gate),
                                                             "marker": str(marker)}))  # fmt: skip

    async with anyio.create_task_group() as tg:
        tg.start_soon(plan)

        async def planning() -> bool:
            return marker.exists()

        await until(planning)
        await anyio.sleep(2.5)  # two and a half lease TTLs: only the heartbeat keeps it
        assert await reap_dead_planners(planner.store, time.time()) == []
        gate.touch()
    assert (await planner.get(plans[0].job_id)).status == JobStatus.AWAITING_CONFIRMATION
    await reap_dead_planners(planner.store, time.time())
    assert await planner.store.leases.planning_jobs() == []  # no longer planning: off the index


# -- SIGTERM ------------------------------------------------------------------------------------


@contextmanager
def lines(stream) -> Iterator[list[str]]:
    """Collect a child's output lines in a thread (readline would block the test)."""
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(iter(stream.readline, "")), daemon=True)
    reader.start()
    yield out


async def wait_for_line(out: list[str], text: str, proc: subprocess.Popen) -> str:
    async def seen() -> bool:
        assert proc.poll() is None, "".join(out)
        return any(text in line for line in out)

    await until(seen)
    return next(line for line in out if text in line)


def embedded_redis_gone(data: Path, pid: int) -> bool:
    if _ping(str(data / "redis.sock"), None):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_sigterm_to_serve_releases_its_lease_and_stops_its_redis(tmp_path):
    gate, marker = tmp_path / "gate", tmp_path / "marker"
    data = tmp_path / "xdg" / "phasegrid"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", "0",
         "--registry", "tests.engine.stayup_flows:build_registry"],
        env=env(XDG_DATA_HOME=str(tmp_path / "xdg")), cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    pid = 0
    try:
        with lines(proc.stdout) as out:
            line = await wait_for_line(out, "phasegrid serve: ", proc)
            base = line.split()[2].removesuffix("/rpc")
            pid = int((data / "redis.pid").read_text())
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:

                async def call(method: str, params: dict) -> dict:
                    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
                    doc = (await http.post("/rpc", json=body)).json()
                    assert "result" in doc, doc
                    return doc["result"]

                opts = {"gate": str(gate), "marker": str(marker)}
                plan = await call("jobs.plan", {"workflow": "gated", "units": [{"name": "hold1"}],
                                                "options": opts})  # fmt: skip
                await call("jobs.confirm", {"job_id": plan["job_id"], "digest": plan["digest"]})

            async def held() -> bool:
                return marker.exists()

            await until(held)  # the job is running: serve holds its lease
            proc.send_signal(signal.SIGTERM)
            rc = await anyio.to_thread.run_sync(lambda: proc.wait(timeout=60))
        assert rc == 0, "".join(out)  # uvicorn's graceful shutdown
        assert "Traceback" not in "".join(out)
        assert embedded_redis_gone(data, pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if pid and not embedded_redis_gone(data, pid):
            os.kill(pid, signal.SIGKILL)
    assert running_jobs_without_leases(data) == [plan["job_id"]]


def running_jobs_without_leases(data: Path) -> list[str]:
    """Restart the stopped Redis on its data: the jobs left RUNNING (to resume), after
    checking that no lease outlived the process that held it."""
    with EmbeddedRedis(data) as again:
        client = redis_sync.Redis.from_url(again.url, decode_responses=True)
        with client:
            assert client.keys("*:lease") == []
            metas = [k for k in client.keys("pg:*:meta") if client.hget(k, "status") == "RUNNING"]
        again.stop(force=True)
    return [k.split("{job:")[1].split("}")[0] for k in metas]


async def test_sigterm_to_run_stops_its_redis(tmp_path):
    from workflows.inputs.samples import sample_path

    data = tmp_path / "xdg" / "phasegrid"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "per_unit_psk",
         str(sample_path("units_48.csv")), "--yes", "--sim-profile", "realistic"],
        env=env(XDG_DATA_HOME=str(tmp_path / "xdg")), cwd=ROOT, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    pid = 0
    try:
        with lines(proc.stderr) as out:
            await wait_for_line(out, "RUNNING", proc)
            pid = int((data / "redis.pid").read_text())
            proc.send_signal(signal.SIGTERM)
            rc = await anyio.to_thread.run_sync(lambda: proc.wait(timeout=60))
        assert rc == 128 + signal.SIGTERM, "".join(out)
        assert "Traceback" not in "".join(out)
        assert embedded_redis_gone(data, pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if pid and not embedded_redis_gone(data, pid):
            os.kill(pid, signal.SIGKILL)
    assert len(running_jobs_without_leases(data)) == 1
