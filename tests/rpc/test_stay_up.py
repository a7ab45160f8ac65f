"""The faces stay up: `phasegrid serve` outlives a Redis restart (answering
"store unavailable" meanwhile) and finishes the job; `jobs.wait` on a quiet job
honours a timeout longer than the Redis client's socket timeout."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from redis.asyncio import Redis

from engine import Engine, EngineConfig
from engine.redis_server import EmbeddedRedis
from rpc.errors import ERROR_CODES
from rpc.http import ServeSettings, build_app
from tests.rpc.conftest import ROOT, Rpc, phasegrid_cmd, subprocess_env, units
from tests.rpc.workflows import build_registry

pytestmark = pytest.mark.anyio

UNAVAILABLE = ERROR_CODES["redis_unavailable"]
REGISTRY = "tests.engine.stayup_flows:build_registry"  # cells held by a file, not by Redis


async def post(http: httpx.AsyncClient, method: str, params: dict[str, Any]) -> dict[str, Any]:
    resp = await http.post("/rpc", json={"jsonrpc": "2.0", "id": 1, "method": method,
                                         "params": params})  # fmt: skip
    assert resp.status_code == 200, resp.text
    return resp.json()


async def result(http: httpx.AsyncClient, method: str, params: dict[str, Any]) -> Any:
    doc = await post(http, method, params)
    assert "result" in doc, doc
    return doc["result"]


def serve_url(proc: subprocess.Popen, timeout: float = 60) -> str:
    """The base URL `phasegrid serve` prints once it listens."""
    found: list[str] = []

    def read() -> None:
        for line in iter(proc.stdout.readline, ""):
            if line.startswith("phasegrid serve: "):
                found.append(line.split()[2].removesuffix("/rpc"))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert found, f"serve did not start (exit {proc.poll()})"
    return found[0]


async def test_serve_outlives_a_redis_restart_and_finishes_the_job(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    gate, marker = tmp_path / "gate", tmp_path / "marker"
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        phasegrid_cmd("--redis-url", url, "serve", "--port", "0", "--prefix", "up",
                      "--log-level", "info", "--registry", REGISTRY),
        cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip
    try:
        base = await anyio.to_thread.run_sync(serve_url, proc)
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            opts = {"gate": str(gate), "marker": str(marker)}
            params = {"workflow": "gated", "options": opts, "units": units("hold1", "u2", "u3")}
            plan = await result(http, "jobs.plan", params)
            await result(http, "jobs.confirm", {"job_id": plan["job_id"], "digest": plan["digest"]})
            with anyio.fail_after(60):
                while not marker.exists():  # a 'hold' cell is running: mid-job
                    await anyio.sleep(0.02)

            server.process.kill()  # SIGKILL
            server.process.wait()
            for method, params in (("jobs.get", {"job_id": plan["job_id"]}), ("engine.health", {})):
                error = (await post(http, method, params))["error"]
                assert error["code"] == UNAVAILABLE, error
                assert error["data"] == {"kind": "redis_unavailable"}
                assert error["message"].startswith("store unavailable")
            assert proc.poll() is None  # serve is still up
            gate.touch()  # the held cell finishes while Redis is down

            server = EmbeddedRedis(tmp_path / "redis")
            assert server.start() == url  # same socket, same data directory
            with anyio.fail_after(120):
                while True:
                    doc = await post(http, "jobs.wait", {"job_id": plan["job_id"], "timeout": 5})
                    view = doc.get("result")
                    if view and view["status"] not in ("QUEUED", "RUNNING"):
                        break
                    assert view or doc["error"]["code"] == UNAVAILABLE, doc  # still loading
            assert view["status"] == "COMPLETED", view
            assert view["units_by_state"]["succeeded"] == 3
            assert (await result(http, "engine.health", {}))["redis"] == "ok"
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
        server.stop(force=True)
    text = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in text and "ExceptionGroup" not in text, text[-3000:]


async def test_jobs_wait_honours_a_timeout_longer_than_the_socket_timeout(
    redis_url, redis, prefix
) -> None:
    client = Redis.from_url(redis_url, decode_responses=True, socket_timeout=0.25)
    eng = Engine(client, build_registry(), EngineConfig(prefix=prefix))  # no worker: stays quiet
    app = build_app(eng, ServeSettings())
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as c:
            rpc = Rpc(c)
            plan = await rpc.call("jobs.plan", {"workflow": "demo", "units": units("a")})
            await rpc.call("jobs.confirm", {"job_id": plan["job_id"], "digest": plan["digest"]})
            t0 = time.monotonic()
            view = await rpc.call("jobs.wait", {"job_id": plan["job_id"], "timeout": 1.5})
            assert time.monotonic() - t0 >= 1.5  # it waited the whole timeout, then answered
            assert view["status"] == "QUEUED"
            events = await rpc.call("jobs.events", {"job_id": plan["job_id"]})
            assert events  # the same client still works
    finally:
        await client.aclose()
