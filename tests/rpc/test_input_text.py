"""Inputs as users have them: plan_job / jobs.plan take the input file's content
(`input_text`) through the CLI's own loaders, with located errors that never echo a
secret; unit objects take the CSV column names (`ap_identifiers`) too."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from app.runtime import RuntimeSettings, open_runtime
from engine import Engine, EngineConfig
from rpc.http import ServeSettings, build_app, serve_in_background
from tests.envs import child_env
from tests.rpc.conftest import ROOT, Rpc, RpcError
from workflows.inputs.samples import sample_ap_serials, sample_path, sample_text

pytestmark = pytest.mark.anyio

HEADER = "unit_number,ap_identifiers,ssid_name,ssid_password,security_type,default_vlan\n"
SECRET = "Sh0rt!"  # too short for WPA: rejected, and must never come back
BAD_LINE_3 = (
    HEADER
    + "101,921000000001;921000000002,Unit-101,Passw0rd-101,WPA2,101\n"
    + f"102,921000000003,Unit-102,{SECRET},WPA2,102\n"
)
FAST = {"activity_min_interval": 0.005, "activity_max_interval": 0.05}


@pytest.fixture
async def sim_engine(redis_url, redis, prefix) -> AsyncIterator[Engine]:
    """The shipped workflows against the in-process simulator holding the samples' APs
    (as `phasegrid serve` does)."""
    settings = RuntimeSettings(
        redis_url=redis_url,
        sim_profile="instant",
        sim_extra_serials=sample_ap_serials(),
        engine=EngineConfig(prefix=prefix, **FAST),
    )
    async with open_runtime(settings) as rt:
        yield rt.engine


@pytest.fixture
async def mcp_url(sim_engine: Engine) -> AsyncIterator[str]:
    async with serve_in_background(sim_engine, "127.0.0.1", 0) as srv:
        yield srv.url + "/mcp"


@pytest.fixture
async def rpc(sim_engine: Engine) -> AsyncIterator[Rpc]:
    transport = httpx.ASGITransport(app=build_app(sim_engine, ServeSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as c:
        yield Rpc(c)


def cli_plan(tmp_path: Path, workflow: str, path: Path) -> dict[str, Any]:
    """`phasegrid plan --json` reading the file, in its own process (private Redis)."""
    env = child_env()
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "plan", workflow, str(path), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def comparable(plan: dict[str, Any]) -> dict[str, Any]:
    """What a plan says it will do, without what differs per job (id, digest, times)."""
    keep = ("units", "create", "reuse", "update", "delete", "skip", "conflicts", "run")
    summary = {k: v for k, v in plan["summary"].items() if k in keep}
    return {
        "summary": summary,
        "estimated_calls": plan["summary"]["estimated_calls"],
        "global_phases": plan["global_phases"],
        "units": plan["units"],
        "options": plan["options"],
    }


async def test_mcp_plan_job_from_the_csv_text_plans_like_the_cli(mcp_url, tmp_path) -> None:
    path = Path(str(sample_path("units_48.csv")))
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    async with Client(mcp_url) as c:
        res = await c.call_tool(
            "plan_job",
            {"workflow": "per_unit_dpsk", "input_text": text, "format": "csv",
             "include_units": True},
        )  # fmt: skip
        assert not res.is_error, res.content
        plan = res.structured_content
    assert plan["summary"]["units"] == 48 and plan["conflicts_total"] == 0
    expected = cli_plan(tmp_path, "per_unit_dpsk", path)
    assert comparable(plan) == comparable(expected)
    for line in text.splitlines()[1:]:  # no passphrase in the answer
        assert line.split(",")[3] not in json.dumps(plan)


async def test_auto_format_reads_csv_and_the_cloudpath_export_with_its_options(rpc) -> None:
    csv_plan = await rpc.call(
        "jobs.plan", {"workflow": "per_unit_dpsk", "input_text": sample_text("units_48.csv")}
    )
    assert csv_plan["summary"]["units"] == 48 and csv_plan["conflicts_total"] == 0
    export = sample_text("cloudpath_300.json")
    pool = json.loads(export)["pool"]["displayName"]
    cp = await rpc.call(
        "jobs.plan",
        {"workflow": "cloudpath_dpsk", "input_text": export, "options": {"venue": "Sim Venue"}},
    )
    assert cp["summary"]["units"] == 300
    assert cp["options"]["pool"]["displayName"] == pool  # implied by the export, as in the CLI
    assert cp["options"]["venue"] == "Sim Venue"  # given options still apply


async def test_an_error_on_line_3_names_line_and_column_and_hides_the_secret(mcp_url, rpc) -> None:
    async with Client(mcp_url) as c:
        res = await c.call_tool("plan_job", {"workflow": "per_unit_dpsk", "input_text": BAD_LINE_3})
    assert res.is_error
    text = "\n".join(getattr(part, "text", "") for part in res.content)
    assert "invalid_input" in text
    assert "line 3, column 4 (ssid_password)" in text, text
    assert SECRET not in text + json.dumps(res.structured_content or {})

    with pytest.raises(RpcError) as caught:
        await rpc.call("jobs.plan", {"workflow": "per_unit_dpsk", "input_text": BAD_LINE_3})
    error = json.dumps(caught.value.error)
    assert caught.value.kind == "invalid_input"
    assert "line 3, column 4 (ssid_password)" in error, error
    assert SECRET not in error


async def test_units_with_the_csv_column_names_are_accepted(mcp_url) -> None:
    unit = {
        "unit_number": "101",
        "ap_identifiers": "921000000001;921000000002",
        "ssid_name": "Unit-101",
        "security_type": "WPA2",
        "default_vlan": 101,
    }
    async with Client(mcp_url) as c:
        res = await c.call_tool(
            "plan_job", {"workflow": "per_unit_dpsk", "units": [unit], "include_units": True}
        )
        assert not res.is_error, res.content
        by_serials = await c.call_tool(
            "plan_job",
            {"workflow": "per_unit_dpsk", "include_units": True,
             "units": [{**{k: v for k, v in unit.items() if k != "ap_identifiers"},
                        "ap_serials": ["921000000001", "921000000002"]}]},
        )  # fmt: skip
    assert res.structured_content["units"] == by_serials.structured_content["units"]
    assert res.structured_content["conflicts_total"] == 0


async def test_exactly_one_of_units_or_input_text(rpc) -> None:
    for params in (
        {"workflow": "per_unit_dpsk"},
        {"workflow": "per_unit_dpsk", "input_text": HEADER, "units": [{"unit_number": "1"}]},
    ):
        with pytest.raises(RpcError) as caught:
            await rpc.call("jobs.plan", params)
        assert "exactly one of units or input_text" in json.dumps(caught.value.error)


async def test_input_text_is_never_read_as_a_server_path(rpc) -> None:
    path = str(sample_path("units_48.csv"))  # a file the server can read
    with pytest.raises(RpcError) as caught:
        await rpc.call("jobs.plan", {"workflow": "per_unit_dpsk", "input_text": path})
    assert caught.value.kind == "invalid_input"
    assert "line 1" in json.dumps(caught.value.error)  # parsed as (bad) CSV text


async def test_format_selects_the_loader(rpc) -> None:
    with pytest.raises(RpcError) as caught:
        await rpc.call(
            "jobs.plan",
            {"workflow": "per_unit_dpsk", "input_text": sample_text("units_48.csv"),
             "format": "json"},
        )  # fmt: skip
    assert caught.value.kind == "invalid_input"
    assert "line 1" in json.dumps(caught.value.error)
    with pytest.raises(RpcError) as caught:
        await rpc.call(
            "jobs.plan",
            {"workflow": "per_unit_dpsk", "input_text": sample_text("cloudpath_300.json"),
             "format": "auto"},
        )  # fmt: skip
    assert "not a unit list" in json.dumps(caught.value.error)
