"""A job's outputs from the command line, as an operator uses them: real processes on
a real Redis, a `per_unit_dpsk` job against a served R1 simulator.

- `phasegrid results` (local store and --server) prints what JSON-RPC's jobs.results
  returns, CSV and JSON alike;
- `phasegrid handout` writes the job's passphrases (read live from R1) to a new 0600
  file, never to the terminal, refuses to overwrite, and says plainly when the job
  was purged;
- `phasegrid events` shows who planned and confirmed (local:<user>).
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
from redis.asyncio import Redis

from app.runtime import default_registry
from engine import Engine, EngineConfig
from engine.redis_server import EmbeddedRedis
from rpc.http import ServeSettings, build_app, serve_in_background
from tests.envs import child_env
from tests.fixtures_sim import serve_sim
from workflows.inputs.samples import sample_path
from workflows.sim import SimConfig, Simulator

ROOT = Path(__file__).resolve().parents[2]
UNITS = 3


@dataclass
class Done:
    data: Path
    redis_url: str
    sim_url: str
    job: str
    passwords: dict[str, str]
    """unit -> its ssid_password (the unit's first passphrase)."""
    ssids: dict[str, str]


def phasegrid(data: Path, redis_url: str, *args: str) -> subprocess.CompletedProcess:
    env = child_env(XDG_DATA_HOME=str(data / "xdg"))  # one secret key for every call
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "--redis-url", redis_url, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Done]:
    data = tmp_path_factory.mktemp("outputs")
    lines = sample_path("units_48.csv").read_text(encoding="utf-8").splitlines()[: UNITS + 1]
    units_csv = data / "units.csv"
    units_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    serials = [s for r in rows for s in r["ap_identifiers"].split(";")]
    server = EmbeddedRedis(data / "redis")
    url = server.start()
    sim = Simulator(SimConfig(profile="instant", seed=7, extra_ap_serials=serials))
    try:
        with serve_sim(sim) as sim_url:
            out = phasegrid(data, url, "run", "per_unit_dpsk", str(units_csv), "--sim-url",
                            sim_url, "--yes", "--json")  # fmt: skip
            assert out.returncode == 0, out.stderr[-3000:]
            job = json.loads(out.stdout)["job_id"]
            yield Done(
                data, url, sim_url, job,
                passwords={r["unit_number"]: r["ssid_password"] for r in rows},
                ssids={r["unit_number"]: r["ssid_name"] for r in rows},
            )  # fmt: skip
    finally:
        server.stop(force=True)


async def rpc_results(redis_url: str, job: str, fmt: str) -> dict:
    """jobs.results through the real JSON-RPC app on the same store."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        engine = Engine(redis, default_registry(), EngineConfig())
        app = build_app(engine, ServeSettings())
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765"
        ) as c:
            body = {"jsonrpc": "2.0", "id": 1, "method": "jobs.results",
                    "params": {"job_id": job, "format": fmt}}  # fmt: skip
            doc = (await c.post("/rpc", json=body)).json()
        return doc["result"]
    finally:
        await redis.aclose()


def test_results_csv_and_json_agree_with_jsonrpc(done: Done) -> None:
    out = phasegrid(done.data, done.redis_url, "results", done.job, "--format", "csv")
    assert out.returncode == 0, out.stderr[-2000:]
    rpc_csv = anyio.run(rpc_results, done.redis_url, done.job, "csv")
    assert out.stdout == rpc_csv["csv"]
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["unit"] for r in rows] == list(done.passwords)
    for r in rows:
        assert r["state"] == "succeeded" and r["first_error"] == ""
        kinds = {x.split(":", 1)[0] for x in r["resources"].split(";")}
        assert {"network", "dpsk_pool"} <= kinds, r["resources"]
        assert "network:" in r["resources"] and "passphrase" in r["resources"]

    target = done.data / "results.json"
    out = phasegrid(done.data, done.redis_url, "results", done.job, "--format", "json",
                    "-o", str(target))  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    local = json.loads(target.read_text(encoding="utf-8"))
    rpc_json = anyio.run(rpc_results, done.redis_url, done.job, "json")
    assert local["units"] == rpc_json["units"] and local["total"] == UNITS
    for secret in done.passwords.values():
        assert secret not in target.read_text(encoding="utf-8") + rpc_csv["csv"]


def test_results_over_a_server_print_the_same(done: Done) -> None:
    async def main() -> tuple[str, str]:
        redis = Redis.from_url(done.redis_url, decode_responses=True)
        engine = Engine(redis, default_registry(), EngineConfig())
        try:
            async with serve_in_background(engine, "127.0.0.1", 0, token="tok-1") as srv:
                env = child_env(PHASEGRID_TOKEN="tok-1")
                env["PYTHONPATH"] = str(ROOT)
                outs = []
                for fmt in ("csv", "json"):
                    res = await anyio.run_process(
                        [sys.executable, "-m", "app.cli", "results", done.job, "--format", fmt,
                         "--server", srv.url],
                        cwd=ROOT, env=env, check=False,
                    )  # fmt: skip
                    assert res.returncode == 0, res.stderr.decode()[-2000:]
                    outs.append(res.stdout.decode())
                return outs[0], outs[1]
        finally:
            await redis.aclose()

    remote_csv, remote_json = anyio.run(main)
    local = phasegrid(done.data, done.redis_url, "results", done.job, "--format", "csv")
    assert remote_csv == local.stdout
    assert (
        json.loads(remote_json)["units"]
        == anyio.run(rpc_results, done.redis_url, done.job, "json")["units"]
    )


def test_events_show_who_planned_and_confirmed(done: Done) -> None:
    out = phasegrid(done.data, done.redis_url, "events", done.job)
    assert out.returncode == 0, out.stderr[-2000:]
    me = f"by local:{getpass.getuser()}"
    planned = [x for x in out.stdout.splitlines() if " job_planned " in x]
    confirmed = [x for x in out.stdout.splitlines() if " job_confirmed " in x]
    assert planned and planned[0].endswith(me), out.stdout
    assert confirmed and confirmed[0].endswith(me), out.stdout


def test_handout_writes_a_private_file_and_never_prints(done: Done) -> None:
    target = done.data / "handout.csv"
    args = ("handout", done.job, "-o", str(target), "--sim-url", done.sim_url)
    out = phasegrid(done.data, done.redis_url, *args)
    assert out.returncode == 0, out.stderr[-2000:]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {r["unit"]: r["passphrase"] for r in rows} == done.passwords
    assert {r["unit"]: r["ssid"] for r in rows} == done.ssids
    assert all(r["username"] for r in rows)
    for secret in done.passwords.values():
        assert secret not in out.stdout + out.stderr

    again = phasegrid(done.data, done.redis_url, *args)  # an existing file is kept
    assert again.returncode != 0 and "--force" in again.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    target.chmod(0o644)  # --force replaces it with a new 0600 file
    forced = phasegrid(done.data, done.redis_url, *args, "--force")
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_handout_of_a_purged_job_says_so(done: Done, tmp_path: Path) -> None:
    async def purge() -> None:  # what retention does when the job's keys expire
        redis = Redis.from_url(done.redis_url, decode_responses=True)
        try:
            keys = [k async for k in redis.scan_iter(match=f"pg:{{job:{done.job}}}:*")]
            assert keys
            await redis.delete(*keys)
        finally:
            await redis.aclose()

    target = tmp_path / "late.csv"
    anyio.run(purge)
    out = phasegrid(done.data, done.redis_url, "handout", done.job, "-o", str(target),
                    "--sim-url", done.sim_url)  # fmt: skip
    assert out.returncode != 0
    assert (
        f"job {done.job} was purged: its passphrases are no longer available from phasegrid"
        in out.stderr
    )
    assert not target.exists()
