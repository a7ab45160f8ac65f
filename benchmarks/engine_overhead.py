"""Engine overhead: 1,000 units x 10 phases with zero-latency executors.

A transition is one (unit, phase) cell run to completion, its state persisted
and its events appended in Redis (the embedded server, AOF on). The same DAG
is also run by a plain anyio task group with no persistence, so the cost of
persistence shows as a ratio measured side by side in this run.

    python -m benchmarks.engine_overhead [--units 1000] [--phases 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import anyio
from pydantic import BaseModel
from redis.asyncio import Redis

from engine import Engine, EngineConfig, JobStatus, PhaseSpec, Registry, WorkflowSpec
from engine.redis_server import EmbeddedRedis


class BUnit(BaseModel):
    n: int

    @property
    def key(self) -> str:
        return f"unit-{self.n:05d}"


class Noop:
    async def run(self, ctx):
        return None


def spec(phases: int) -> WorkflowSpec:
    return WorkflowSpec(
        name="bench",
        title="bench",
        unit_model=BUnit,
        phases=tuple(
            PhaseSpec(
                id=f"p{i}", title=f"P{i}", executor=Noop(), depends_on=(f"p{i - 1}",) if i else ()
            )
            for i in range(phases)
        ),
    )


async def run_engine(url: str, units: int, phases: int, in_flight: int) -> tuple[float, int]:
    redis = Redis.from_url(url, decode_responses=True)
    engine = Engine(
        redis, Registry([spec(phases)]), EngineConfig(prefix="bench", max_in_flight=in_flight)
    )
    async with engine.running():
        plan = await engine.plan("bench", [{"n": i} for i in range(units)])
        t0 = time.perf_counter()
        await engine.confirm(plan.job_id, plan.digest)
        view = await engine.wait(plan.job_id, timeout=600)
        elapsed = time.perf_counter() - t0
    assert view.status == JobStatus.COMPLETED, view.status
    await redis.aclose()
    return elapsed, view.transitions_done


async def run_baseline(units: int, phases: int, in_flight: int) -> float:
    """The same per-unit pipelines in a bare task group: no Redis, no events."""
    limiter = anyio.CapacityLimiter(in_flight)
    noop = Noop()

    async def pipeline() -> None:
        for _ in range(phases):
            async with limiter:
                await noop.run(None)

    t0 = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(units):
            tg.start_soon(pipeline)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--phases", type=int, default=10)
    parser.add_argument("--in-flight", type=int, default=64)
    args = parser.parse_args()
    total = args.units * args.phases
    with tempfile.TemporaryDirectory() as data, EmbeddedRedis(data, appendonly=True) as server:
        elapsed, done = anyio.run(run_engine, server.url, args.units, args.phases, args.in_flight)
    base = anyio.run(run_baseline, args.units, args.phases, args.in_flight)
    assert done == total
    rate = total / elapsed
    base_rate = total / base
    print(f"units={args.units} phases={args.phases} transitions={total} in_flight={args.in_flight}")
    print(f"baseline_anyio_transitions_per_s={base_rate:,.0f} ({base:.3f}s, no persistence)")
    print(f"engine_seconds={elapsed:.3f} persistence_overhead_ratio={base_rate / rate:.1f}x")
    print(f"transitions_per_s={rate:.0f}")


if __name__ == "__main__":
    main()
