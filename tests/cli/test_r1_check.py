"""`phasegrid r1 check` against a simulator over real HTTP, in another process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from tests.envs import child_env
from tests.fixtures_sim import serve_sim
from workflows.sim import SimConfig, Simulator

ROOT = Path(__file__).resolve().parents[2]


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "r1", "check", *args],
        cwd=ROOT, env=child_env(PYTHONPATH=str(ROOT)), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_a_conforming_tenant_passes_every_probe() -> None:
    sim = Simulator(SimConfig(seed=5))
    with serve_sim(sim) as url:
        done = check("--sim-url", url, "--venue", sim.venue_id or "")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 of 8 probes conform" in done.stdout
    for probe in ("token", "venue", "APs", "AP groups", "Wi-Fi networks", "DPSK pools"):
        assert any(
            line.startswith(probe) and "conforms" in line for line in done.stdout.splitlines()
        ), (probe, done.stdout)
    writes = [r for r in sim.stats_counters.requests if r.split()[0] in ("PUT", "DELETE")]
    posts = [
        r
        for r in sim.stats_counters.requests
        if r.startswith("POST") and "query" not in r and "token" not in r
    ]
    assert not writes and not posts  # reads only


def test_an_answer_with_an_undocumented_field_is_a_mismatch() -> None:
    sim = Simulator(SimConfig(seed=5, contract="off"))

    async def invents(scope, receive, send) -> None:
        """The simulator's answers, with a field R1's documents do not have on venues."""
        if scope["type"] != "http" or scope["path"] != "/venues/query":
            await sim.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        start = {}

        async def grab(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await sim.app(scope, receive, grab)
        body = json.loads(b"".join(chunks))
        for row in body.get("data", []):
            row["buildingCode"] = "B-7"
        data = json.dumps(body).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    with serve_sim(SimpleNamespace(app=invents)) as url:  # type: ignore[arg-type]
        done = check("--sim-url", url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "POST /venues/query response.200 /data/0: unevaluatedProperties" in done.stdout
    assert "buildingCode" in done.stdout
    assert "6 of 7 probes conform; 1 do not" in done.stdout


def test_an_unreachable_tenant_exits_69() -> None:
    done = check("--sim-url", "http://127.0.0.1:9")
    assert done.returncode == 69
    assert "cannot reach" in done.stderr
