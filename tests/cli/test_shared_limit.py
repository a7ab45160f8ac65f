"""Two workers, one tenant: the rate limit is shared through Redis.

One `phasegrid sim` process (one tenant, a low per-family limit, recording every
request with its arrival time) and two `phasegrid serve` processes on one Redis,
each running one job for that tenant. The two reach the simulator by different
URLs (127.0.0.1 and localhost), so each is a worker of its own target and runs
its own job, while both call the same tenant. Over the window in which both jobs
run, the simulator sees at most the limit (+5%) per service family, and under 1%
of the calls are 429s. With one limiter per process instead, this test fails:
the two processes start at twice the limit (per-second peaks of 1.5x at the
simulator) until 429s halve each one's rate, so ~2% of calls are 429s (the
average rate then stays near the limit, ~0.9x, because each process halved).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO

import httpx

from app.rpc_client import RpcClient
from engine.redis_server import EmbeddedRedis
from tests.cli.test_target_binding import env_for
from workflows.inputs.samples import sample_units
from workflows.r1.contract.validate import Contract
from workflows.r1.services import family_of

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 30.0
"""Calls per second the simulator returns to each tenant x service family."""
BURST = 20
UNITS = 40
"""Per job: about 7 Wi-Fi and 7 DPSK calls each, so both jobs take ~20 s at the limit."""


def started(proc: subprocess.Popen, pattern: str, what: str) -> str:
    """The first match of `pattern` in the process's stdout (it prints it when up)."""
    out: IO[str] = proc.stdout  # type: ignore[assignment]
    seen = []
    for line in out:
        seen.append(line)
        if match := re.search(pattern, line):
            return match.group(1)
    err = proc.stderr.read() if proc.stderr else ""
    raise AssertionError(f"{what} did not start: {''.join(seen)!r} {err[-3000:]}")


def cli(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def family_rates(entries: list[dict], t0: float, t1: float) -> dict[str, float]:
    """Calls per second the simulator received per service family within [t0, t1]."""
    contract = Contract.load()
    counts: Counter[str] = Counter()
    for e in entries:
        if t0 <= e["at"] <= t1:
            counts[family_of(contract.operation(e["method"], e["path"]) or "")] += 1
    return {family: n / (t1 - t0) for family, n in counts.items()}


def test_two_workers_on_one_tenant_stay_within_its_limit_together(tmp_path: Path) -> None:
    units = sample_units(2 * UNITS)
    serials = [s for u in units for s in u.ap_serials]
    files = []
    for i, part in enumerate((units[:UNITS], units[UNITS:])):
        path = tmp_path / f"units{i}.json"
        path.write_text(json.dumps([json.loads(u.model_dump_json()) for u in part]))
        files.append(path)
    record = tmp_path / "requests.jsonl"
    redis = EmbeddedRedis(tmp_path / "redis")
    env = env_for(redis.start(), tmp_path / "data")
    procs: list[subprocess.Popen] = []

    def spawn(*argv: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *argv],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append(proc)
        return proc

    try:
        sim = spawn(
            "sim", "--port", "0", "--profile", "instant", "--rate-limit", str(LIMIT),
            "--rate-burst", str(BURST), "--record", str(record),
            "--extra-ap-serials", ",".join(serials),
        )  # fmt: skip
        port = started(sim, r"http://127\.0\.0\.1:(\d+)", "phasegrid sim")
        servers = []
        for host in ("127.0.0.1", "localhost"):  # two targets, one simulator, one tenant
            serve = spawn(
                "serve", "--port", "0", "--backend", "sim-url", "--sim-url",
                f"http://{host}:{port}", "--log-level", "warning",
            )  # fmt: skip
            servers.append(started(serve, r"phasegrid serve: (http://\S+)/rpc", "serve"))
        plans = []
        for server, path in zip(servers, files, strict=True):
            doc = cli(env, "submit", "per_unit_dpsk", str(path), "--server", server,
                      "-o", "venue=Sim Venue", "--json")  # fmt: skip
            plans.append(json.loads(doc))
        views = []
        for server, plan in zip(servers, plans, strict=True):  # both start together
            with RpcClient(server) as rpc:
                rpc.call("jobs.confirm", {"job_id": plan["job_id"], "digest": plan["digest"]})
        for server, plan in zip(servers, plans, strict=True):
            with RpcClient(server, timeout=300) as rpc:
                view = {"status": "RUNNING"}
                deadline = time.monotonic() + 300
                while view["status"] in ("QUEUED", "RUNNING"):
                    assert time.monotonic() < deadline, f"job still {view['status']}"
                    view = rpc.call("jobs.wait", {"job_id": plan["job_id"], "timeout": 30})
                assert view["status"] == "COMPLETED", view.get("error")
                views.append(view)
        status = json.loads(cli(env, "status", "--server", servers[0], "--json"))
        text = cli(env, "status", plans[1]["job_id"], "--server", servers[1])
        stats = httpx.get(f"http://127.0.0.1:{port}/_sim/stats").json()
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis.stop(force=True)

    # the window in which both workers were running their jobs
    t0 = max(v["started_at"] for v in views)
    t1 = min(v["finished_at"] for v in views)
    assert t1 - t0 > 5.0, (t0, t1)
    entries = [json.loads(line) for line in record.read_text().splitlines()]
    rates = family_rates(entries, t0, t1)
    busiest = max(rates.values())
    share_429 = stats["rate_limited"] / stats["requests_total"]
    print(f"busiest family {busiest / LIMIT:.3f}x the limit; 429s {share_429:.2%} of calls")
    assert busiest <= 1.05 * LIMIT, {f: round(r / LIMIT, 3) for f, r in rates.items()}
    assert share_429 < 0.01, stats["rate_limited"]

    # the state both workers shared, as `phasegrid status` shows it
    rows = {s["family"]: s for s in status["limits"]}
    assert {s["tenant"] for s in status["limits"]} == {"sim:sim-tenant"}
    assert sum(s["calls"] for s in rows.values()) == len(entries)  # every call of both
    assert rows["wifi_api"]["waits"] > 0 and rows["wifi_api"]["documented_rate"] == LIMIT
    assert sum(s["rate_limited"] for s in rows.values()) == stats["rate_limited"]
    assert "sim:sim-tenant" in text and "wifi_api" in text and "calls/s (documented)" in text
    # and each job says how long its calls waited on the shared limit
    assert all(v["metrics"]["limiter_wait_s"] > 0 for v in views)
    assert "on the tenant rate limit" in text
