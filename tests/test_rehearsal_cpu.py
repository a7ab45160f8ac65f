"""A rehearsal's CPU (issue 12, item 3): sniffio is a declared dependency (without it
httpx retries the import on every request), the simulator's contract guard checks a
query once (the pipeline reuses its finding), and `benchmarks.rehearsal_cpu` prints
CPU seconds per 1,000 calls before and after (nothing asserted about speed)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.envs import child_env
from workflows.r1.contract.validate import SEEN_PATHS, Contract
from workflows.sim import SimConfig, Simulator

ROOT = Path(__file__).resolve().parents[1]


def test_sniffio_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.split(">")[0].split("=")[0].strip() == "sniffio" for d in project["dependencies"])


@pytest.mark.anyio
async def test_a_query_is_checked_against_the_contract_once(monkeypatch):
    contract = Contract.load()
    checked: list[str] = []
    check = contract.check_request

    def counting(method, path, *args, **kwargs):
        checked.append(f"{method} {path}")
        return check(method, path, *args, **kwargs)

    monkeypatch.setattr(contract, "check_request", counting)
    sim = Simulator(SimConfig(contract="record"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        form = {"grant_type": "client_credentials", "client_id": "sim-client"}
        token = await http.post(
            "/oauth2/token/sim-tenant", data={**form, "client_secret": "sim-secret"}
        )
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        checked.clear()
        ok = await http.post("/activities/query", json={"page": 1}, headers=auth)
        bad = await http.post("/activities/query", json={"page": "x"}, headers=auth)
    assert ok.status_code == 200
    assert bad.status_code == 400  # still refused as R1 would, from the guard's finding
    assert "page" in bad.text
    assert checked == ["POST /activities/query"] * 2


def test_the_operation_of_a_path_is_the_same_asked_again_and_past_the_cache():
    contract = Contract.load()
    key = "POST /identityGroups/{identityGroupId}/dpskServices"
    assert contract.operation("post", "/identityGroups/g1/dpskServices") == key
    assert contract.operation("POST", "/identityGroups/g1/dpskServices") == key
    for i in range(SEEN_PATHS + 1):
        contract.operation("GET", f"/venues/v{i}")
    assert contract.operation("POST", "/identityGroups/g1/dpskServices") == key
    assert contract.operation("GET", "/no/such/thing") is None
    assert len(contract._seen) <= SEEN_PATHS


def test_the_benchmark_prints_cpu_per_1000_calls_before_and_after_and_the_ratio_last():
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.rehearsal_cpu", "--calls", "200"],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("before:") and "CPU s / 1,000 calls" in lines[0]
    assert lines[1].strip().startswith("after:") and "0 failures" in lines[1]
    assert lines[-1].startswith("cpu_ratio=") and float(lines[-1].split("=")[1]) > 0
