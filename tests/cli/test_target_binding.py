"""Two processes on one Redis, two simulators: a job's writes go only to the
simulator it was planned against (`phasegrid serve` never claims it)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis

from engine.keys import GlobalKeys
from engine.redis_server import EmbeddedRedis
from engine.targets import target_key
from tests.envs import child_env
from tests.fixtures_sim import serve_sim
from tests.workflows.rig import sim_for
from workflows.inputs.samples import sample_units

ROOT = Path(__file__).resolve().parents[2]
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def writes(stats: dict) -> int:
    return sum(
        n for route, n in stats["requests"].items()
        if route.startswith(WRITES) and "query" not in route and "token" not in route.lower()
    )  # fmt: skip


def env_for(redis_url: str, data: Path) -> dict[str, str]:
    env = child_env()
    env.update(PHASEGRID_REDIS_URL=redis_url, XDG_DATA_HOME=str(data), PYTHONPATH=str(ROOT))
    return env


def test_run_against_a_writes_only_to_a_while_serve_on_b_shares_the_redis(tmp_path: Path):
    us = sample_units(6)
    sim_a, sim_b = sim_for(us), sim_for(us)
    units_file = tmp_path / "units.json"
    units_file.write_text(json.dumps([json.loads(u.model_dump_json()) for u in us]))
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    redis = Redis.from_url(url, decode_responses=True)
    env = env_for(url, tmp_path / "data")
    try:
        with serve_sim(sim_a) as url_a, serve_sim(sim_b) as url_b:
            serve = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", "0",
                 "--backend", "sim-url", "--sim-url", url_b],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                # serve's worker is up when it has announced itself for B's target
                workers_b = GlobalKeys("pg").workers(target_key(f"sim-url:{url_b}"))
                deadline = time.monotonic() + 60
                while not redis.zcard(workers_b):
                    assert serve.poll() is None, serve.stderr.read()[-3000:] if serve.stderr else ""
                    assert time.monotonic() < deadline, "serve never started its worker"
                    time.sleep(0.05)
                before_b = writes(sim_b.stats())
                out = subprocess.run(
                    [sys.executable, "-m", "app.cli", "run", "per_unit_dpsk", str(units_file),
                     "--backend", "sim-url", "--sim-url", url_a, "--yes", "--json",
                     "-o", "venue=Sim Venue"],
                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
                )  # fmt: skip
                assert out.returncode == 0, out.stderr[-3000:]
                doc = json.loads(out.stdout)
                assert doc["status"] == "COMPLETED", doc
                assert f"target: R1 simulator ({url_a})" in out.stderr
                assert writes(sim_a.stats()) > 0  # every write of the job went to A
                assert writes(sim_b.stats()) == before_b == 0  # and none to B
                assert serve.poll() is None  # serve is still up, it just never claimed the job
                started = [
                    json.loads(f["e"]) for _id, f in redis.xrange(
                        GlobalKeys("pg").job(doc["job_id"]).events)
                ]  # fmt: skip
                workers = {e["worker"] for e in started if e.get("type") == "job_started"}
                assert len(workers) == 1  # one worker ran it: run's own
            finally:
                serve.send_signal(signal.SIGTERM)
                serve.wait(30)
    finally:
        redis.close()
        server.stop(force=True)
