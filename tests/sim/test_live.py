"""The simulator over real HTTP: uvicorn in a thread, and `phasegrid sim`."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures_sim import LiveSim
from tests.sim.helpers import TOKEN_FORM


def _walkthrough(client: httpx.Client) -> None:
    """The README's curl walk-through, step by step."""
    tok = client.post("/oauth2/token/sim-tenant", data=TOKEN_FORM).json()["access_token"]
    h = {"Authorization": f"Bearer {tok}"}
    r = client.post("/identityGroups", json={"name": "unit-101"}, headers=h)
    assert r.status_code == 202 and r.json()["requestId"]
    rid = r.json()["requestId"]
    deadline = time.monotonic() + 5
    while (a := client.get(f"/activities/{rid}", headers=h)).status_code == 404 or a.json()[
        "status"
    ] not in ("SUCCESS", "FAIL"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert a.json()["status"] == "SUCCESS"
    found = client.post(
        "/identityGroups/query",
        headers=h,
        params={"page": 0, "size": 10},
        json={"keyword": "unit-101"},
    ).json()
    assert found["totalElements"] == 1 and found["content"][0]["id"] == r.json()["id"]
    stats = client.get("/_sim/stats").json()
    assert stats["resources"]["identityGroups"] == 1
    assert stats["requests"]["POST /identityGroups"] == 1


def test_live_server(live_sim: LiveSim) -> None:
    with httpx.Client(base_url=live_sim.url, timeout=5) as client:
        _walkthrough(client)
    assert live_sim.sim.stats()["activities"]["SUCCESS"] == 1


def test_phasegrid_sim_command(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "sim",
            "--port",
            "0",
            "--profile",
            "fast",
            "--aps",
            "6",
            "--seed",
            "5",
            "--state",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match and match.group(1) != "0", first
        banner = "".join(proc.stdout.readline() for _ in range(5))
        assert "sim-client" in banner and "sim-secret" in banner
        url = match.group(0)
        deadline = time.monotonic() + 10
        while True:  # uvicorn starts serving right after the banner
            try:
                httpx.get(f"{url}/_sim/info", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        with httpx.Client(base_url=url, timeout=5) as client:
            _walkthrough(client)
            assert len(client.get("/_sim/info").json()["venueId"]) == 32
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("phasegrid sim did not stop on SIGINT")
    saved = json.loads(state.read_text())
    assert [g["name"] for g in saved["identityGroups"]] == ["unit-101"]
    assert len(saved["aps"]) == 6
