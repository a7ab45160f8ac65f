"""Hostile requests over real HTTP to the served app (the one `phasegrid serve` runs),
with the real `per_unit_dpsk` workflow and the in-process simulator: each is refused
with a JSON-RPC / MCP error that names the field, costs little, and never shows a
Redis error."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from app.runtime import Runtime, RuntimeSettings, open_runtime
from engine import EngineConfig
from engine.bounds import MAX_JSON_DEPTH, MAX_UNITS_PER_JOB
from engine.codec import dump_revealed
from engine.keys import JobKeys
from engine.redis_server import EmbeddedRedis
from rpc.http import serve_in_background
from workflows.inputs.samples import sample_units

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}


def raw_units(n: int) -> list[dict[str, Any]]:
    return [json.loads(dump_revealed(u)) for u in sample_units(n)]


class Face:
    """The runtime, its HTTP server and a JSON-RPC caller over a real socket."""

    def __init__(self, rt: Runtime, url: str, http: httpx.AsyncClient) -> None:
        self.rt, self.url, self.http = rt, url, http

    async def call(self, method: str, params: Any) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        resp = await self.http.post("/rpc", json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def plan(self, n: int = 2) -> str:
        doc = await self.call("jobs.plan", {"workflow": "per_unit_dpsk", "units": raw_units(n)})
        return doc["result"]["job_id"]


async def open_face(redis_url: str, prefix: str) -> Any:
    settings = RuntimeSettings(
        redis_url=redis_url, sim_profile="instant", worker=False,
        engine=EngineConfig(prefix=prefix),
    )  # fmt: skip
    return open_runtime(settings)


@pytest.fixture
async def face(redis_url: str, redis, prefix: str) -> AsyncIterator[Face]:
    async with (
        await open_face(redis_url, prefix) as rt,
        serve_in_background(rt.engine, "127.0.0.1", 0) as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=60) as http,
    ):
        yield Face(rt, srv.url, http)


def only_error(doc: dict[str, Any], code: int) -> dict[str, Any]:
    assert "result" not in doc, doc
    assert doc["error"]["code"] == code, doc
    return doc["error"]


def paths(error: dict[str, Any]) -> list[str]:
    return [e["path"] for e in error["data"]["errors"]]


async def test_huge_template_width_is_refused_before_formatting(
    face: Face, redis, prefix: str
) -> None:
    units = raw_units(1)
    params = {"workflow": "per_unit_dpsk", "units": units,
              "options": {"naming": {"ap_group": "{venue:>20000000}"}}}  # fmt: skip
    tracemalloc.start()
    try:
        doc = await face.call("jobs.plan", params)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    error = only_error(doc, -32602)
    assert paths(error) == ["options.naming.ap_group"]
    message = error["data"]["errors"][0]["message"]
    assert "width" in message and "64" in message and len(message) < 200
    assert peak < 8 * 2**20  # the 20,000,000-character name would be 20 MB at least
    sizes = [await redis.memory_usage(k) or 0 async for k in redis.scan_iter(f"{prefix}:*")]
    assert max(sizes, default=0) < 64 * 1024  # no plan, no inputs stored for it


async def test_template_fields_cannot_reach_attributes_or_nest(face: Face) -> None:
    for template in ("{venue.__class__}", "{venue:>{n}}", "{n:.900000f}", "x" * 65):
        params = {"workflow": "per_unit_dpsk", "units": raw_units(1),
                  "options": {"naming": {"ap_group": template}}}  # fmt: skip
        error = only_error(await face.call("jobs.plan", params), -32602)
        assert paths(error) == ["options.naming.ap_group"], template


async def test_deep_json_is_a_parse_error_not_http_500(face: Face) -> None:
    body = "[" * 100_000 + "]" * 100_000
    resp = await face.http.post("/rpc", content=body, headers=JSON)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    error = only_error(resp.json(), -32700)
    assert error["data"] == {"kind": "too_deep", "max_depth": MAX_JSON_DEPTH}
    deep = "[" * 100 + "]" * 100  # parses, but nests past the limit
    body = '{"jsonrpc":"2.0","id":7,"method":"jobs.get","params":{"job_id":' + deep + "}}"
    resp = await face.http.post("/rpc", content=body, headers=JSON)
    assert only_error(resp.json(), -32600)["data"]["kind"] == "too_deep"


async def test_offsets_beyond_range_are_invalid_params(face: Face) -> None:
    job = await face.plan()
    for offset in (2**63, 2**64, 10**9 + 1):
        error = only_error(await face.call("jobs.units", {"job_id": job, "offset": offset}), -32602)
        assert paths(error) == ["offset"]
        error = only_error(await face.call("jobs.list", {"offset": offset}), -32602)
        assert paths(error) == ["offset"]
    page = await face.call("jobs.units", {"job_id": job, "offset": 10**9})
    assert page["result"]["units"] == []


async def test_event_cursors_are_checked_against_stream_id_range(face: Face) -> None:
    job = await face.plan()
    top = 2**64 - 1
    for after in ("99999999999999999999-0", f"1-{top + 1}", f"{top}-{top}", "1-2-3", "-1-0"):
        error = only_error(await face.call("jobs.events", {"job_id": job, "after": after}), -32602)
        assert paths(error) == ["after"], after
    doc = await face.call("jobs.events", {"job_id": job, "after": f"{top}-0"})
    assert doc["result"]["events"] == []
    doc = await face.call("jobs.events", {"job_id": job, "after": "0-0"})
    assert doc["result"]["events"]  # JobPlanned at least


async def test_mcp_tools_share_the_validation(face: Face) -> None:
    job = await face.plan()
    async with Client(face.url + "/mcp") as c:
        res = await c.call_tool("list_units", {"job_id": job, "offset": 2**63})
        assert res.is_error and "offset" in res.content[0].text
        res = await c.call_tool("get_events", {"job_id": job, "after": "99999999999999999999-0"})
        assert res.is_error and "after" in res.content[0].text
        assert "internal" not in res.content[0].text


async def test_units_per_job_are_capped(face: Face) -> None:
    units = [{"unit_number": str(i)} for i in range(MAX_UNITS_PER_JOB + 1)]
    error = only_error(await face.call("jobs.plan", {"workflow": "per_unit_dpsk", "units": units}),
                       -32602)  # fmt: skip
    assert paths(error) == ["units"]
    assert str(MAX_UNITS_PER_JOB) in error["data"]["errors"][0]["message"]


async def test_redis_errors_never_reach_the_client(tmp_path: Path, prefix: str) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    try:
        async with (
            await open_face(url, prefix) as rt,
            serve_in_background(rt.engine, "127.0.0.1", 0) as srv,
            httpx.AsyncClient(base_url=srv.url, timeout=60) as http,
        ):
            face = Face(rt, srv.url, http)
            job = await face.plan()
            await rt.redis.set(JobKeys(prefix, "wrongtype").meta, "not a hash")
            error = only_error(await face.call("jobs.get", {"job_id": "wrongtype"}), -32603)
            assert error["message"] == "Internal error"
            assert error["data"]["kind"] == "store_error" and "WRONGTYPE" not in json.dumps(error)
            server.stop(force=True)  # Redis goes away under the running server
            error = only_error(await face.call("jobs.get", {"job_id": job}), -32050)
            assert error["message"] == "store unavailable"
            assert error["data"]["kind"] == "redis_unavailable"
            async with Client(srv.url + "/mcp") as c:
                res = await c.call_tool("get_job", {"job_id": job})
                assert res.is_error
                assert "redis_unavailable: store unavailable" in res.content[0].text
                assert "Connection" not in res.content[0].text
    finally:
        server.stop(force=True)


async def test_a_plan_over_the_size_limit_is_refused_and_leaves_no_inputs(
    face: Face, redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("engine.bounds.MAX_PLAN_BYTES", 4000)  # about three units' plans
    params = {"workflow": "per_unit_dpsk", "units": raw_units(8)}
    error = only_error(await face.call("jobs.plan", params), -32602)
    assert error["message"] == "plan too large" and paths(error) == ["plan"]
    (job,) = (await face.call("jobs.list", {}))["result"]["jobs"]
    assert job["status"] == "FAILED"
    assert not await redis.exists(JobKeys(prefix, job["id"]).inputs)
    assert not await redis.exists(JobKeys(prefix, job["id"]).plan)
