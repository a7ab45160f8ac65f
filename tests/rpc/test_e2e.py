"""Three processes, one Redis: plan over JSON-RPC in this process, confirm from
a CLI client process, watch completion from an MCP client talking to a third
process (`phasegrid mcp`, whose worker runs the job: this process has none)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from app.runtime import RuntimeSettings, open_runtime
from engine import EngineConfig
from rpc.http import serve_in_background
from tests.rpc.conftest import ROOT, phasegrid_cmd, subprocess_env, units

pytestmark = pytest.mark.anyio

FAST = {"activity_min_interval": 0.005, "activity_max_interval": 0.05}


@asynccontextmanager
async def planner(redis_url: str, prefix: str, **settings: Any) -> AsyncIterator[Any]:
    """Process 1: an engine without a worker, serving /rpc and /mcp."""
    factory = settings.pop("registry_factory", None)
    cfg = RuntimeSettings(
        redis_url=redis_url, worker=False, engine=EngineConfig(prefix=prefix, **FAST), **settings
    )
    async with (
        open_runtime(cfg, registry_factory=factory) as rt,
        serve_in_background(rt.engine, "127.0.0.1", 0) as srv,
    ):
        yield srv


async def rpc(client: httpx.AsyncClient, method: str, params: dict[str, Any]) -> Any:
    doc = (
        await client.post(
            "/rpc", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        )
    ).json()
    assert "result" in doc, doc
    return doc["result"]


def confirm_in_subprocess(url: str, job: str, digest: str) -> str:
    """Process 2: the CLI client."""
    out = subprocess.run(
        phasegrid_cmd("confirm", job, digest, "--server", url, "--json"),
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["status"]


async def watch_over_mcp(redis_url: str, prefix: str, job: str, *extra: str) -> dict[str, Any]:
    """Process 3: `phasegrid mcp` (with the worker), watched by the official MCP client."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "app.cli", "--redis-url", redis_url, "mcp", "--prefix", prefix, *extra],
        env=subprocess_env(),
        cwd=str(ROOT),
    )
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async with Client(params) as c:
        res = await c.call_tool(
            "wait_for_job", {"job_id": job, "timeout": 90}, progress_callback=on_progress
        )
        assert not res.is_error, res.content
        assert progress
        return res.structured_content


async def test_three_processes_synthetic(redis_url, redis, prefix) -> None:
    from tests.rpc.workflows import build_registry

    # planner and worker name one shared target (a simulator URL nobody calls here):
    # a job runs only on a worker of the target it was planned for
    target = ("--backend", "sim-url", "--sim-url", "http://127.0.0.1:9")
    async with planner(
        redis_url, prefix, registry_factory=build_registry, backend="sim-url",
        sim_url=target[-1],
    ) as srv:  # fmt: skip
        async with httpx.AsyncClient(base_url=srv.url) as http:
            plan = await rpc(http, "jobs.plan", {"workflow": "demo", "units": units("a", "b")})
        status = await anyio.to_thread.run_sync(
            confirm_in_subprocess, srv.url, plan["job_id"], plan["digest"]
        )
        assert status == "QUEUED"  # nobody runs it yet: this process has no worker
        view = await watch_over_mcp(
            redis_url, prefix, plan["job_id"], "--registry", "tests.rpc.workflows:build_registry",
            *target,
        )  # fmt: skip
        assert view["status"] == "COMPLETED" and view["units_by_state"]["succeeded"] == 2


async def test_three_processes_per_unit_dpsk_on_the_simulator(redis_url, redis, prefix) -> None:
    from workflows.catalog import build_registry

    assert "per_unit_dpsk" in build_registry()
    from engine.codec import dump_revealed
    from tests.fixtures_sim import serve_sim
    from tests.workflows.rig import sim_for
    from workflows.inputs.samples import sample_units

    us = sample_units(4)
    secrets = [u.ssid_password.get_secret_value() for u in us if u.ssid_password]
    raw = [json.loads(dump_revealed(u)) for u in us]
    sim = sim_for(us)
    with serve_sim(sim) as sim_url:
        async with (
            planner(redis_url, prefix, backend="sim-url", sim_url=sim_url) as srv,
            httpx.AsyncClient(base_url=srv.url) as http,
        ):
            plan = await rpc(
                http,
                "jobs.plan",
                {"workflow": "per_unit_dpsk", "units": raw, "options": {"venue": "Sim Venue"}},
            )
            assert plan["conflicts_total"] == 0 and plan["summary"]["create"] > 0
            assert plan["headline"].startswith("Plan: ")
            status = await anyio.to_thread.run_sync(
                confirm_in_subprocess, srv.url, plan["job_id"], plan["digest"]
            )
            assert status == "QUEUED"
            view = await watch_over_mcp(
                redis_url, prefix, plan["job_id"], "--backend", "sim-url", "--sim-url", sim_url
            )
            assert view["status"] == "COMPLETED", view
            assert view["units_by_state"]["succeeded"] == 4
            # nothing a face returns carries a passphrase
            seen = [plan, view]
            seen.append(await rpc(http, "jobs.unit", {"job_id": plan["job_id"], "unit": us[0].key}))
            seen.append(await rpc(http, "jobs.events", {"job_id": plan["job_id"], "limit": 1000}))
            seen.append(await rpc(http, "jobs.units", {"job_id": plan["job_id"]}))
            text = json.dumps(seen)
            for secret in secrets:
                assert secret not in text
