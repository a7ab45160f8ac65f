"""The official MCP client against our server: Streamable HTTP and stdio, in
both protocol eras (the SDK's default `Client`, stateless 2026-07-28, and
legacy `ClientSession` sessions, 2025-11-25)."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client, ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ElicitResult

from tests.rpc.conftest import ROOT, subprocess_env, units

pytestmark = pytest.mark.anyio

READ_ONLY = {"list_workflows", "describe_workflow", "audit_job", "get_job", "list_units",
             "get_events", "wait_for_job", "list_jobs"}  # fmt: skip
DESTRUCTIVE = {"confirm_job", "cancel_job", "plan_cleanup"}
ALL_TOOLS = READ_ONLY | DESTRUCTIVE | {"plan_job", "discard_plan", "retry_job"}


class Asker:
    """An elicitation callback standing in for the human."""

    def __init__(self, action: str = "accept", content: dict[str, Any] | None = None) -> None:
        self.action = action
        self.content = content
        self.messages: list[str] = []

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        self.messages.append(params.message)
        props = params.requested_schema.get("properties", {})
        content = self.content
        if content is None and self.action == "accept":
            content = {"confirm": True} if "confirm" in props else {"confirm_text": "Sim Venue"}
        return ElicitResult(action=self.action, content=content)


@asynccontextmanager
async def legacy(streams_cm: Any, asker: Asker | None) -> AsyncIterator[ClientSession]:
    async with streams_cm as (read, write), ClientSession(
        read, write, elicitation_callback=asker
    ) as session:  # fmt: skip
        await session.initialize()
        yield session


def stdio_params(redis_url: str, prefix: str, *extra: str) -> StdioServerParameters:
    extra = extra or ("--registry", "tests.rpc.workflows:build_registry")
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "app.cli", "--redis-url", redis_url, "mcp", "--prefix", prefix, *extra],
        env=subprocess_env(),
        cwd=str(ROOT),
    )


async def check_tools(c: Any) -> None:
    listed = await c.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) >= ALL_TOOLS
    for name in READ_ONLY:
        assert tools[name].annotations.read_only_hint is True, name
        assert tools[name].annotations.destructive_hint is False, name
    for name in DESTRUCTIVE:
        assert tools[name].annotations.read_only_hint is False, name
        assert tools[name].annotations.destructive_hint is True, name
    assert tools["plan_job"].annotations.destructive_hint is False
    for t in tools.values():
        assert t.input_schema["type"] == "object" and t.output_schema, t.name
    assert "show the plan" in tools["plan_job"].description
    assert set(tools["confirm_job"].input_schema["required"]) == {"job_id", "digest"}
    assert tools["get_job"].output_schema["properties"]["status"]


SYNTHETIC = {"workflow": "demo", "units": units("u1", "u2", "u3", "u4"), "options": {"delay": 0.15}}


async def scenario(c: Any, asker: Asker | None, job: dict[str, Any] = SYNTHETIC) -> None:
    """List tools, plan, refuse a wrong digest, confirm, wait with progress: COMPLETED."""
    await check_tools(c)
    n = len(job["units"])
    res = await c.call_tool("plan_job", job)
    assert not res.is_error, res.content
    plan = res.structured_content
    assert plan["conflicts_total"] == 0 and plan["summary"]["create"] > 0
    if job is SYNTHETIC:
        assert plan["headline"] == "Plan: 12 to create, 0 to reuse, 0 conflicts"
    assert json.loads(res.content[0].text)["digest"] == plan["digest"]

    bad = await c.call_tool("confirm_job", {"job_id": plan["job_id"], "digest": "f" * 32})
    assert bad.is_error and "digest_mismatch" in bad.content[0].text
    if asker is not None:
        assert asker.messages == []  # a wrong digest never bothers the human

    ok = await c.call_tool("confirm_job", {"job_id": plan["job_id"], "digest": plan["digest"]})
    assert not ok.is_error, ok.content
    assert ok.structured_content["status"] in ("QUEUED", "RUNNING")
    if asker is not None:
        assert len(asker.messages) == 1 and plan["headline"] in asker.messages[0]

    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    done = await c.call_tool(
        "wait_for_job", {"job_id": plan["job_id"], "timeout": 60}, progress_callback=on_progress
    )
    assert not done.is_error, done.content
    assert done.structured_content["status"] == "COMPLETED"
    assert progress and progress[-1][0] == progress[-1][1]
    assert progress[-1][2].startswith(f"COMPLETED: {n}/{n} units")
    assert [p[0] for p in progress] == sorted({p[0] for p in progress})  # increasing

    got = await c.call_tool("get_job", {"job_id": plan["job_id"]})
    assert got.structured_content["units_by_state"]["succeeded"] == n


async def test_http_modern_client(server, redis) -> None:
    asker = Asker()
    async with Client(server.url + "/mcp", elicitation_callback=asker) as c:
        assert c.protocol_version == "2026-07-28"
        await scenario(c, asker)


async def test_http_legacy_session(server, redis) -> None:
    asker = Asker()
    async with legacy(streamable_http_client(server.url + "/mcp"), asker) as s:
        assert s.protocol_version == "2025-11-25"
        await scenario(s, asker)


async def test_http_client_without_elicitation(server, redis) -> None:
    async with Client(server.url + "/mcp", mode="legacy") as c:
        await scenario(c, None)


async def test_stdio_modern_client(redis_url, redis, prefix) -> None:
    async with Client(stdio_params(redis_url, prefix), elicitation_callback=Asker()) as c:
        assert c.protocol_version == "2026-07-28"
        await scenario(c, None)


async def test_stdio_legacy_session(redis_url, redis, prefix) -> None:
    asker = Asker()
    async with legacy(stdio_client(stdio_params(redis_url, prefix)), asker) as s:
        await scenario(s, asker)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_declined_elicitation_starts_nothing(server, mode: str) -> None:
    asker = Asker(action="decline")
    async with Client(server.url + "/mcp", mode=mode, elicitation_callback=asker) as c:
        plan = await c.call_tool("plan_job", {"workflow": "demo", "units": units("a")})
        plan = plan.structured_content
        res = await c.call_tool("confirm_job", {"job_id": plan["job_id"], "digest": plan["digest"]})
        assert res.is_error and "not_confirmed" in res.content[0].text
        view = (await c.call_tool("get_job", {"job_id": plan["job_id"]})).structured_content
        assert view["status"] == "AWAITING_CONFIRMATION"
    no = Asker(content={"confirm": False})  # a human answering "no" is a refusal too
    async with Client(server.url + "/mcp", mode=mode, elicitation_callback=no) as c:
        res = await c.call_tool("confirm_job", {"job_id": plan["job_id"], "digest": plan["digest"]})
        assert res.is_error and "declined" in res.content[0].text


async def test_destructive_cleanup_asks_to_type(server) -> None:
    async with Client(server.url + "/mcp", elicitation_callback=Asker()) as c:
        plan = await c.call_tool("plan_job", {"workflow": "demo", "units": units("a", "b")})
        plan = plan.structured_content
        await c.call_tool("confirm_job", {"job_id": plan["job_id"], "digest": plan["digest"]})
        await c.call_tool("wait_for_job", {"job_id": plan["job_id"], "timeout": 30})
        clean = (await c.call_tool("plan_cleanup", {"job_id": plan["job_id"]})).structured_content
        assert clean["summary"]["destructive"] and "DESTRUCTIVE" in clean["next_step"]
    wrong = Asker(content={"confirm_text": "Other Venue"})
    async with Client(server.url + "/mcp", elicitation_callback=wrong) as c:
        res = await c.call_tool(
            "confirm_job", {"job_id": clean["job_id"], "digest": clean["digest"]}
        )
        assert res.is_error and "confirmation_required" in res.content[0].text
        assert "type 'Sim Venue'" in wrong.messages[0]
    async with Client(server.url + "/mcp", elicitation_callback=Asker()) as c:
        res = await c.call_tool(
            "confirm_job", {"job_id": clean["job_id"], "digest": clean["digest"]}
        )
        assert not res.is_error, res.content
        done = await c.call_tool("wait_for_job", {"job_id": clean["job_id"], "timeout": 30})
        assert done.structured_content["status"] == "COMPLETED"


async def test_tool_errors_are_readable_and_safe(server, engine, monkeypatch) -> None:
    async with Client(server.url + "/mcp") as c:
        res = await c.call_tool("get_job", {"job_id": "nope"})
        assert res.is_error and "not_found" in res.content[0].text
        res = await c.call_tool("plan_job", {"workflow": "demo", "units": [{"vlan": 0}]})
        assert res.is_error and "units[0].name" in res.content[0].text

        async def boom(*a: Any, **kw: Any) -> Any:
            raise RuntimeError("password=hunter2")

        monkeypatch.setattr(engine, "list_jobs", boom)
        res = await c.call_tool("list_jobs", {})
        assert res.is_error and "hunter2" not in res.content[0].text
        assert "internal" in res.content[0].text
