"""Pause and resume through both faces: JSON-RPC `jobs.pause` / `jobs.resume` and
the MCP tools `pause_job` / `resume_job` of the same operation table."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client

from rpc.http import RunningServer
from tests.rpc.conftest import Rpc, RpcError, units

pytestmark = pytest.mark.anyio


async def status_becomes(call, job_id: str, status: str) -> dict:
    with anyio.fail_after(60):
        while (view := await call(job_id))["status"] != status:
            await anyio.sleep(0.02)
    return view


async def test_pause_and_resume_over_json_rpc(rpc: Rpc) -> None:
    plan = await rpc.call(
        "jobs.plan", {"workflow": "demo", "units": units(*"abcdef"), "options": {"delay": 0.5}}
    )
    await rpc.call("jobs.confirm", {"job_id": plan["job_id"], "digest": plan["digest"]})

    async def get(job_id: str) -> dict:
        return await rpc.call("jobs.get", {"job_id": job_id})

    paused = await rpc.call("jobs.pause", {"job_id": plan["job_id"]})
    assert paused["status"] in ("PAUSED", "RUNNING")
    view = await status_becomes(get, plan["job_id"], "PAUSED")
    assert view["units_by_state"]["succeeded"] < 6  # it stopped before the end (>= 1.5 s)
    with pytest.raises(RpcError) as err:
        await rpc.call("jobs.pause", {"job_id": plan["job_id"]})
    assert err.value.kind == "wrong_state"

    await rpc.call("jobs.resume", {"job_id": plan["job_id"]})
    done = await status_becomes(get, plan["job_id"], "COMPLETED")
    assert done["units_by_state"]["succeeded"] == 6


async def test_pause_and_resume_are_mcp_tools(server: RunningServer) -> None:
    async with Client(server.url + "/mcp") as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        assert {"pause_job", "resume_job"} <= set(tools)
        assert tools["pause_job"].annotations.destructive_hint is False
        plan = (
            await c.call_tool(
                "plan_job",
                {"workflow": "demo", "units": units("a", "b"), "options": {"delay": 0.1}},
            )
        ).structured_content
        await c.call_tool("confirm_job", {"job_id": plan["job_id"], "digest": plan["digest"]})
        res = await c.call_tool("pause_job", {"job_id": plan["job_id"]})
        assert not res.is_error, res.content

        async def get(job_id: str) -> dict:
            return (await c.call_tool("get_job", {"job_id": job_id})).structured_content

        await status_becomes(get, plan["job_id"], "PAUSED")
        res = await c.call_tool("resume_job", {"job_id": plan["job_id"]})
        assert not res.is_error, res.content
        await status_becomes(get, plan["job_id"], "COMPLETED")


async def test_a_wave_over_json_rpc_stops_for_approval_bound_to_the_digest(rpc: Rpc) -> None:
    plan = await rpc.call(
        "jobs.plan", {"workflow": "demo", "units": units(*"abcd"), "wave": {"first": 2}}
    )
    assert plan["wave"] == ["a", "b"]
    await rpc.call("jobs.confirm", {"job_id": plan["job_id"], "digest": plan["digest"]})
    view = await rpc.call("jobs.wait", {"job_id": plan["job_id"], "timeout": 60})
    assert view["status"] == "PAUSED" and view["wave_gate"] and view["wave_units"] == 2
    assert view["units_by_state"]["succeeded"] == 2 and view["units_by_state"]["pending"] == 2
    with pytest.raises(RpcError) as err:
        await rpc.call("jobs.resume", {"job_id": plan["job_id"]})
    assert err.value.kind == "confirmation_required"
    await rpc.call("jobs.resume", {"job_id": plan["job_id"], "digest": plan["digest"]})
    view = await rpc.call("jobs.wait", {"job_id": plan["job_id"], "timeout": 60})
    assert view["status"] == "COMPLETED" and view["units_by_state"]["succeeded"] == 4


async def test_a_wave_naming_an_unknown_unit_is_refused_with_the_field(rpc: Rpc) -> None:
    with pytest.raises(RpcError) as err:
        await rpc.call(
            "jobs.plan", {"workflow": "demo", "units": units("a", "b"), "wave": {"units": ["z"]}}
        )
    assert err.value.kind == "invalid_input"
    assert "wave.units" in str(err.value.error)
