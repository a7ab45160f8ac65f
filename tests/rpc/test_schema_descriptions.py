"""Every field an agent fills in is described: each property of every shipped
workflow's unit_schema and options_schema, as describe_workflow publishes them
(nested models and $defs included), and each plan_job parameter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from mcp import Client

from engine import Engine, EngineConfig
from rpc.http import ServeSettings, build_app, serve_in_background
from tests.rpc.conftest import Rpc
from workflows.catalog import build_registry

pytestmark = pytest.mark.anyio


def properties(schema: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, property schema) of every property anywhere in a JSON schema."""
    if isinstance(schema, dict):
        for name, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict):
                yield f"{where}.{name}", prop
        for key, value in schema.items():
            yield from properties(value, f"{where}/{key}" if key != "properties" else where)
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            yield from properties(item, f"{where}[{i}]")


def undescribed(schema: Any) -> list[str]:
    return sorted(
        path for path, prop in properties(schema) if not str(prop.get("description", "")).strip()
    )


def test_the_walk_finds_nested_properties_without_a_description() -> None:
    schema = {
        "properties": {"a": {"description": "x"}, "b": {"$ref": "#/$defs/B"}},
        "$defs": {"B": {"properties": {"c": {"type": "int"}}}},
    }
    assert undescribed(schema) == [".b", "/$defs/B.c"]


@pytest.fixture
async def engine(redis, prefix) -> AsyncIterator[Engine]:
    eng = Engine(redis, build_registry(), EngineConfig(prefix=prefix), seed=1)
    async with eng.running(worker=False):
        yield eng


async def test_every_unit_and_option_field_of_every_workflow_is_described(engine) -> None:
    transport = httpx.ASGITransport(app=build_app(engine, ServeSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as c:
        rpc = Rpc(c)
        names = [w["name"] for w in (await rpc.call("workflows.list"))["workflows"]]
        assert {"per_unit_dpsk", "per_unit_psk", "cloudpath_dpsk", "venue_cleanup"} <= set(names)
        missing: dict[str, list[str]] = {}
        checked = 0
        for name in names:
            described = await rpc.call("workflows.describe", {"workflow": name})
            for key in ("unit_schema", "options_schema"):
                schema = described[key]
                checked += sum(1 for _ in properties(schema))
                if gaps := undescribed(schema):
                    missing[f"{name}.{key}"] = gaps
    assert checked > 50
    assert missing == {}


async def test_the_plan_job_tool_describes_every_parameter(engine) -> None:
    async with serve_in_background(engine, "127.0.0.1", 0) as srv, Client(srv.url + "/mcp") as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
    schema = tools["plan_job"].input_schema
    assert {"units", "input_text", "format"} <= set(schema["properties"])
    assert undescribed(schema) == []
    assert "input_text" in schema["properties"]["units"]["description"]
    assert "units" in schema["properties"]["input_text"]["description"]
