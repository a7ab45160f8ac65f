"""A job's outputs and "who did what" over both remote faces.

- get_ledger / jobs.ledger and get_results / jobs.results after a real
  `per_unit_dpsk` job on the simulator, the same over MCP and JSON-RPC;
- no MCP tool, called with a real session's arguments, returns a passphrase;
- plan, confirm, cancel, retry, discard and cleanup events record their principal:
  `token:<name>` when served with a token (JSON-RPC and MCP), whatever the engine
  method is given when called locally.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from app.runtime import Runtime, RuntimeSettings, open_runtime
from engine import Engine, EngineConfig
from rpc.http import RunningServer, ServeSettings, serve_in_background
from tests.rpc.conftest import units
from tests.rpc.test_mcp_sim import FAST, dpsk_job

pytestmark = pytest.mark.anyio

TOKEN = "tok-outputs-1"
SERVED = ServeSettings(host="127.0.0.1", port=0, token=TOKEN, token_name="ci-bot")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Rpc:
    def __init__(self, url: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, headers=AUTH, timeout=120)
        self.n = 0

    async def __call__(self, method: str, params: dict[str, Any]) -> Any:
        self.n += 1
        body = {"jsonrpc": "2.0", "id": self.n, "method": method, "params": params}
        doc = (await self.http.post("/rpc", json=body)).json()
        assert "error" not in doc, doc
        return doc["result"]


def mcp_client(srv: RunningServer) -> Any:
    http = create_mcp_http_client(headers=AUTH)
    return http, Client(streamable_http_client(srv.url + "/mcp", http_client=http))


@dataclass
class Served:
    rt: Runtime
    srv: RunningServer
    rpc: Rpc
    job: str
    plan: dict[str, Any]
    raw: dict[str, Any]


@pytest.fixture
async def served(redis_url, redis, prefix) -> AsyncIterator[Served]:
    raw, serials = dpsk_job()
    settings = RuntimeSettings(
        redis_url=redis_url, sim_profile="instant", sim_extra_serials=serials,
        engine=EngineConfig(prefix=prefix, **FAST),
    )  # fmt: skip
    async with (
        open_runtime(settings) as rt,
        serve_in_background(rt.engine, settings=SERVED) as srv,
    ):
        rpc = Rpc(srv.url)
        plan = await rpc("jobs.plan", raw)
        await rpc("jobs.confirm", {"job_id": plan["job_id"], "digest": plan["digest"]})
        view = await rpc("jobs.wait", {"job_id": plan["job_id"], "timeout": 120})
        assert view["status"] == "COMPLETED", view
        try:
            yield Served(rt, srv, rpc, plan["job_id"], plan, raw)
        finally:
            await rpc.http.aclose()


async def test_ledger_over_jsonrpc_and_mcp(served: Served) -> None:
    rpc, job = served.rpc, served.job
    ledger = await served.rt.engine.ledger(job)
    whole = await rpc("jobs.ledger", {"job_id": job, "limit": 1000})
    assert whole["total"] == len(ledger) > 0
    assert [e["id"] for e in whole["entries"]] == [e.id for e in ledger]
    kinds = {e["resource"] for e in whole["entries"]}
    assert {"network", "dpsk_pool"} <= kinds, kinds
    page = await rpc("jobs.ledger", {"job_id": job, "offset": 2, "limit": 3})
    assert page["entries"] == whole["entries"][2:5] and page["total"] == len(ledger)
    mine = await rpc("jobs.ledger", {"job_id": job, "unit": "101", "limit": 1000})
    assert mine["total"] > 0 and {e["unit"] for e in mine["entries"]} == {"101"}
    nets = await rpc("jobs.ledger", {"job_id": job, "resource": "network"})
    assert sorted(e["unit"] for e in nets["entries"]) == ["101", "102", "103"]

    http, client = mcp_client(served.srv)
    async with http, client as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        assert "phasegrid handout" in tools["get_ledger"].description
        assert tools["get_ledger"].annotations.read_only_hint is True
        res = await c.call_tool("get_ledger", {"job_id": job, "limit": 1000})
        assert not res.is_error, res.content
        assert res.structured_content == whole
        res = await c.call_tool("get_ledger", {"job_id": job, "unit": "101", "limit": 1000})
        assert res.structured_content == mine


async def test_results_agree_over_jsonrpc_and_mcp(served: Served) -> None:
    rpc, job = served.rpc, served.job
    as_json = await rpc("jobs.results", {"job_id": job})
    as_csv = await rpc("jobs.results", {"job_id": job, "format": "csv"})
    assert as_json["total"] == 3 and [u["unit"] for u in as_json["units"]] == ["101", "102", "103"]
    assert all(u["state"] == "succeeded" and u["first_error"] is None for u in as_json["units"])
    lines = as_csv["csv"].splitlines()
    assert lines[0] == "unit,state,resources,first_error" and len(lines) == 4
    for line, row in zip(lines[1:], as_json["units"], strict=True):
        assert line.startswith(f"{row['unit']},succeeded,{';'.join(row['resources'])}")
    page = await rpc("jobs.results", {"job_id": job, "offset": 1, "limit": 1})
    assert page["units"] == as_json["units"][1:2]
    http, client = mcp_client(served.srv)
    async with http, client as c:
        res = await c.call_tool("get_results", {"job_id": job, "format": "csv"})
        assert res.structured_content == as_csv
        res = await c.call_tool("get_results", {"job_id": job})
        assert res.structured_content == as_json


async def passphrases_of(served: Served) -> list[str]:
    """The job's passphrases as R1 holds them (live), and the units' secret inputs."""
    r1 = served.rt.r1
    pools = {e.parent["pool_id"] for e in await served.rt.engine.ledger(served.job)
             if e.resource.startswith("passphrase")}  # fmt: skip
    live = [p.passphrase.get_secret_value() for pool in pools
            for p in await r1.list_passphrases(pool) if p.passphrase]  # fmt: skip
    given = [u["ssid_password"] for u in served.raw["units"] if u.get("ssid_password")]
    assert live and given and set(given) <= set(live)
    return sorted(set(live) | set(given))


def args_for(tool: Any, s: Served, plans: dict[str, str]) -> dict[str, Any]:
    """Arguments a real session would pass, from the tool's input schema: the job that
    ran (a fresh plan for confirm, discard and cancel)."""
    props = tool.input_schema.get("properties", {})
    known = {
        "job_id": plans.get(tool.name, s.job),
        "workflow": "per_unit_dpsk", "options": s.raw["options"],
        "units": ["101"] if tool.name == "retry_job" else s.raw["units"],
        "unit": "101", "venue": "Sim Venue", "digest": "f" * 32, "timeout": 5,
        "include_units": True, "mode": "graceful",
    }  # fmt: skip
    return {k: v for k, v in known.items() if k in props}


async def test_no_mcp_tool_returns_a_passphrase(served: Served) -> None:
    secrets = await passphrases_of(served)
    plans = {}
    for tool in ("confirm_job", "discard_plan", "cancel_job"):
        plans[tool] = (await served.rpc("jobs.plan", {**served.raw, "title": tool}))["job_id"]
    http, client = mcp_client(served.srv)
    called: dict[str, str] = {}
    async with http, client as c:
        tools = (await c.list_tools()).tools
        assert {"get_ledger", "get_results"} <= {t.name for t in tools}
        for tool in tools:
            res = await c.call_tool(tool.name, args_for(tool, served, plans))
            text = json.dumps(res.structured_content) + "".join(
                getattr(part, "text", "") for part in res.content
            )
            called[tool.name] = text
        for fmt in ("csv", "json"):
            res = await c.call_tool("get_results", {"job_id": served.job, "format": fmt})
            called[f"get_results/{fmt}"] = json.dumps(res.structured_content)
    assert len(called) >= len(tools)
    leaks = [(name, s) for name, text in called.items() for s in secrets if s in text]
    assert leaks == []
    assert "101" in called["get_ledger"] and "network" in called["get_ledger"]


# -- principal ------------------------------------------------------------------------------


async def events_by_type(engine: Engine, job: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for rec in await engine.events(job, limit=5000):
        out.setdefault(rec.event.type, []).append(rec.event)
    return out


async def test_served_jsonrpc_and_mcp_record_the_token_name(engine: Engine) -> None:
    async with serve_in_background(engine, settings=SERVED) as srv:
        rpc = Rpc(srv.url)
        try:
            plan = await rpc(
                "jobs.plan",
                {"workflow": "demo", "units": [*units("a"), *units("b", fail=["pool"])]},
            )
            job = plan["job_id"]
            await rpc("jobs.confirm", {"job_id": job, "digest": plan["digest"]})
            assert (await rpc("jobs.wait", {"job_id": job, "timeout": 60}))["status"] == "PARTIAL"
            await rpc("jobs.retry", {"job_id": job})
            await rpc("jobs.wait", {"job_id": job, "timeout": 60})
            cleanup = await rpc("jobs.cleanup", {"job_id": job})
            await rpc("jobs.discard", {"job_id": cleanup["job_id"]})
            http, client = mcp_client(srv)
            async with http, client as c:
                res = await c.call_tool("plan_job", {"workflow": "demo", "units": units("c")})
                other = res.structured_content["job_id"]
                await c.call_tool("cancel_job", {"job_id": other})
        finally:
            await rpc.http.aclose()
    by = await events_by_type(engine, job)
    assert [e.principal for e in by["job_planned"]] == ["token:ci-bot"]
    assert [e.principal for e in by["job_confirmed"]] == ["token:ci-bot"]
    retries = [e for e in by["job_status"] if (e.reason or "").startswith("retry")]
    assert [e.principal for e in retries] == ["token:ci-bot"]
    by = await events_by_type(engine, cleanup["job_id"])
    assert by["job_planned"][0].principal == "token:ci-bot"
    discarded = [e for e in by["job_status"] if e.reason == "discarded"]
    assert [e.principal for e in discarded] == ["token:ci-bot"]
    by = await events_by_type(engine, other)
    assert by["job_planned"][0].principal == "token:ci-bot"  # over MCP too
    assert [e.principal for e in by["cancel_requested"]] == ["token:ci-bot"]


async def test_loopback_without_a_token_records_the_server_user(engine: Engine) -> None:
    async with (
        serve_in_background(engine, "127.0.0.1", 0) as srv,
        httpx.AsyncClient(base_url=srv.url) as http,
    ):
        body = {"jsonrpc": "2.0", "id": 1, "method": "jobs.plan",
                "params": {"workflow": "demo", "units": units("a")}}  # fmt: skip
        plan = (await http.post("/rpc", json=body)).json()["result"]
    by = await events_by_type(engine, plan["job_id"])
    assert by["job_planned"][0].principal == f"loopback:{getpass.getuser()}"


async def test_local_engine_records_the_principal_given(engine: Engine) -> None:
    me = "local:alice"
    plan = await engine.plan("demo", [*units("a"), *units("b", fail=["pool"])], principal=me)
    await engine.confirm(plan.job_id, plan.digest, principal=me)
    assert (await engine.wait(plan.job_id, timeout=60)).status == "PARTIAL"
    await engine.retry(plan.job_id, principal=me)
    await engine.wait(plan.job_id, timeout=60)
    other = await engine.plan("demo", units("c"), principal=me)
    await engine.cancel(other.job_id, principal=me)
    by = await events_by_type(engine, plan.job_id)
    assert by["job_planned"][0].principal == me and by["job_confirmed"][0].principal == me
    assert [e.principal for e in by["job_status"] if (e.reason or "").startswith("retry")] == [me]
    assert (await events_by_type(engine, other.job_id))["cancel_requested"][0].principal == me
