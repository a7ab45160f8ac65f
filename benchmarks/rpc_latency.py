"""JSON-RPC latency under load: `jobs.get` round trips against `phasegrid serve`
(a subprocess, loopback HTTP) while a 1,000-unit job runs in that server's
worker.

    python -m benchmarks.rpc_latency [--units 1000] [--requests 1000] [--redis-url URL]

The job is a synthetic 4-phase per-unit workflow whose cells each take
`--cell-ms` (I/O-like sleeps, default 150 ms), so the worker keeps 64 cells in flight and
writes every transition and event to Redis during the whole measurement:
the RPC answers compete with a busy engine in the same process. Prints
p50/p95/p99 and, last, `rpc_p95_ms=<N>` (target <= 20 ms on loopback).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import httpx
from pydantic import BaseModel, Field

from engine import PhaseSpec, Registry, WorkflowSpec
from engine.context import PhaseContext, PlanContext
from engine.models import PhasePlan

ROOT = Path(__file__).resolve().parents[1]


class BenchUnit(BaseModel):
    name: str

    @property
    def key(self) -> str:
        return self.name


class BenchOptions(BaseModel):
    cell_ms: float = Field(150.0, ge=0)


class Sleep:
    async def plan(self, ctx: PlanContext) -> PhasePlan:
        return PhasePlan(action="create", resource="thing", calls=1)

    async def run(self, ctx: PhaseContext) -> dict[str, Any]:
        await anyio.sleep(ctx.options.cell_ms / 1000)
        return {}


def registry() -> Registry:
    """`--registry benchmarks.rpc_latency:registry` for the served process."""
    phases, prev = [], ()
    for pid in ("group", "pool", "network", "activate"):
        phases.append(PhaseSpec(id=pid, title=pid, executor=Sleep(), depends_on=prev))
        prev = (pid,)
    return Registry(
        [
            WorkflowSpec(
                name="bench",
                title="bench",
                phases=tuple(phases),
                unit_model=BenchUnit,
                options_model=BenchOptions,
            )
        ]
    )


def call(http: httpx.Client, method: str, params: dict[str, Any]) -> Any:
    doc = http.post("/rpc", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    body = doc.json()
    if "error" in body:
        raise RuntimeError(f"{method}: {body['error']}")
    return body["result"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def start_redis(tmp: str) -> tuple[str, Any]:
    from engine.redis_server import EmbeddedRedis

    server = EmbeddedRedis(Path(tmp) / "redis", appendonly=False)
    return server.start(), server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--cell-ms", type=float, default=150.0)
    ap.add_argument("--redis-url", default=None)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="rpc_bench") as tmp:
        redis = None
        url = args.redis_url
        if url is None:
            url, redis = start_redis(tmp)
        prefix = f"bench{uuid.uuid4().hex[:6]}"
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env.pop("PHASEGRID_TOKEN", None)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "--redis-url",
                url,
                "serve",
                "--port",
                "0",
                "--prefix",
                prefix,
                "--registry",
                "benchmarks.rpc_latency:registry",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("phasegrid serve: "):
                print(f"server did not start: {line!r}", file=sys.stderr)
                return 1
            base = line.split()[2].rsplit("/rpc", 1)[0]
            print(f"server {base} (subprocess), Redis {url.split('@')[-1]}")
            return measure(base, args)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            if redis is not None:
                redis.stop(force=True)


def measure(base: str, args: argparse.Namespace) -> int:
    with httpx.Client(base_url=base, timeout=30) as http:
        units = [{"name": f"u{i:04d}"} for i in range(args.units)]
        t0 = time.perf_counter()
        plan = call(
            http,
            "jobs.plan",
            {"workflow": "bench", "units": units, "options": {"cell_ms": args.cell_ms}},
        )
        print(f"planned {args.units} units in {time.perf_counter() - t0:.2f}s: {plan['headline']}")
        job = plan["job_id"]
        call(http, "jobs.confirm", {"job_id": job, "digest": plan["digest"]})
        deadline = time.monotonic() + 30
        while call(http, "jobs.get", {"job_id": job})["status"] != "RUNNING":
            if time.monotonic() > deadline:
                print("job never started", file=sys.stderr)
                return 1
        for _ in range(20):  # warm-up
            call(http, "jobs.get", {"job_id": job})
        samples: list[float] = []
        running = 0
        first = last = None
        for _ in range(args.requests):
            t = time.perf_counter()
            view = call(http, "jobs.get", {"job_id": job})
            samples.append((time.perf_counter() - t) * 1000)
            if view["status"] == "RUNNING":
                running += 1
                first = first if first is not None else view["transitions_done"]
                last = view["transitions_done"]
        final = call(http, "jobs.wait", {"job_id": job, "timeout": 300})
    p50, p95, p99 = pct(samples, 50), pct(samples, 95), pct(samples, 99)
    print(
        f"jobs.get x{len(samples)}: {running} answered while RUNNING "
        f"(cells {first} -> {last} of {final['transitions_total']} meanwhile)"
    )
    print(
        f"p50 {p50:.2f} ms  p95 {p95:.2f} ms  p99 {p99:.2f} ms  "
        f"mean {statistics.fmean(samples):.2f} ms  max {max(samples):.2f} ms"
    )
    print(
        f"job {job} finished {final['status']}, throughput {final['throughput'] or 0:.0f} cells/s"
    )
    print(
        json.dumps(
            {
                "p50_ms": round(p50, 2),
                "p95_ms": round(p95, 2),
                "p99_ms": round(p99, 2),
                "while_running": running,
                "requests": len(samples),
            }
        )
    )
    print(f"rpc_p95_ms={p95:.1f}")
    return 0 if running == len(samples) else 2


if __name__ == "__main__":
    sys.exit(main())
