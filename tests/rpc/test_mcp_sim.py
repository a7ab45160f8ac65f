"""The official MCP client runs the real `per_unit_dpsk` workflow against the R1
simulator: over Streamable HTTP and stdio, in both protocol eras."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from app.runtime import RuntimeSettings, open_runtime
from engine import EngineConfig
from rpc.http import RunningServer, serve_in_background
from tests.rpc.test_mcp import Asker, legacy, scenario, stdio_params

pytestmark = pytest.mark.anyio

FAST = {"activity_min_interval": 0.005, "activity_max_interval": 0.05}


def dpsk_job() -> tuple[dict[str, Any], list[str]]:
    from workflows.catalog import build_registry

    assert "per_unit_dpsk" in build_registry()
    from engine.codec import dump_revealed
    from workflows.inputs.samples import sample_units

    us = sample_units(3)
    serials = [s for u in us for s in u.ap_serials]
    raw = [json.loads(dump_revealed(u)) for u in us]
    return {"workflow": "per_unit_dpsk", "units": raw, "options": {"venue": "Sim Venue"}}, serials


@pytest.fixture
async def sim_server(redis_url, redis, prefix) -> AsyncIterator[tuple[RunningServer, dict]]:
    job, serials = dpsk_job()
    settings = RuntimeSettings(
        redis_url=redis_url,
        sim_profile="instant",
        sim_extra_serials=serials,
        engine=EngineConfig(prefix=prefix, **FAST),
    )
    async with open_runtime(settings) as rt, serve_in_background(rt.engine, "127.0.0.1", 0) as srv:
        yield srv, job


async def test_http_modern(sim_server) -> None:
    srv, job = sim_server
    asker = Asker()
    async with Client(srv.url + "/mcp", elicitation_callback=asker) as c:
        await scenario(c, asker, job)


async def test_http_legacy(sim_server) -> None:
    srv, job = sim_server
    async with legacy(streamable_http_client(srv.url + "/mcp"), Asker()) as s:
        await scenario(s, None, job)


@pytest.mark.parametrize("era", ["modern", "legacy"])
async def test_stdio(redis_url, redis, prefix, era: str) -> None:
    job, serials = dpsk_job()
    params = stdio_params(
        redis_url, prefix, "--sim-profile", "instant", "--sim-extra-serials", ",".join(serials)
    )
    if era == "modern":
        async with Client(params) as c:
            assert c.protocol_version == "2026-07-28"
            await scenario(c, None, job)
    else:
        async with legacy(stdio_client(params), None) as s:
            assert s.protocol_version == "2025-11-25"
            await scenario(s, None, job)
