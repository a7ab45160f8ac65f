"""TUI at scale: a 10,000-unit x 9-phase job fed at ~2,000 state changes per
second through the real app (headless, real engine in-process, real Redis).

    python -m benchmarks.tui_scale [--seconds 30] [--units 10000] [--rate 2000]

Prints p50/p95 frame time (a frame = one screen update: layout, Line-API
render of the dirty regions and the terminal byte stream, which headless mode
would otherwise skip), p95 batch-apply time, p95 key-to-screen latency for
cursor moves (key posted -> the frame showing the moved cursor done), peak RSS
of this process (app + engine; Redis is a separate process), and last
`tui_p95_frame_ms=<N>`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import tempfile
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from redis.asyncio import Redis
from textual import events
from textual.screen import Screen

from app.tui import PhasegridApp
from app.tui.screens.job import JobScreen
from app.tui.synthetic import DEMO_WORKFLOW, SynthControl, synthetic_specs, synthetic_units
from engine import Engine, EngineConfig, Registry
from engine.redis_server import EmbeddedRedis


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


class Probe:
    """Times every screen update and notices when a cursor move reached the screen."""

    def __init__(self) -> None:
        self.frames: list[float] = []
        self.key_latency: list[float] = []
        self.key_t0: float | None = None
        self.key_target: int | None = None
        self.grid: Any = None
        self.measuring = False

    def install(self, app: PhasegridApp) -> None:
        probe = self
        original = Screen._on_timer_update

        def timed(screen: Screen) -> None:
            t0 = time.perf_counter()
            dirty = bool(screen._dirty_widgets or screen._layout_required)
            original(screen)
            t1 = time.perf_counter()
            if probe.measuring and dirty and screen is app.screen:
                probe.frames.append((t1 - t0) * 1000)
            grid = probe.grid
            if (
                probe.key_t0 is not None
                and grid is not None
                and grid.cursor_row == probe.key_target
                and not screen._dirty_widgets
            ):
                probe.key_latency.append((t1 - probe.key_t0) * 1000)
                probe.key_t0 = None

        Screen._on_timer_update = timed  # type: ignore[method-assign]
        original_display = PhasegridApp._display

        def display(self: PhasegridApp, screen: Screen, renderable: Any) -> None:
            # headless skips turning the update into terminal bytes: do it, as a tty would
            if renderable is not None and hasattr(renderable, "render_segments"):
                renderable.render_segments(self.console)
            original_display(self, screen, renderable)

        PhasegridApp._display = display  # type: ignore[method-assign]


async def run(args: argparse.Namespace) -> None:
    tmp = tempfile.mkdtemp(prefix="tui_scale_")
    server = EmbeddedRedis(tmp)
    url = server.start()
    control = SynthControl(per_second=args.rate / 2)  # a cell = started + succeeded
    registry = Registry(synthetic_specs(control, all_per_unit=True))
    prefix = f"bench{int(time.time())}"

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[Any]:
        redis = Redis.from_url(url, decode_responses=True)
        engine = Engine(redis, registry, EngineConfig(prefix=prefix, max_in_flight=512), seed=1)
        try:
            async with engine.running(worker=True):
                yield SimpleNamespace(engine=engine, simulated=True)
        finally:
            await redis.aclose()

    plan_t = {}

    async def start(engine: Any) -> str:
        t0 = time.perf_counter()
        plan = await engine.plan(DEMO_WORKFLOW, synthetic_units(args.units), {})
        plan_t["plan"] = time.perf_counter() - t0
        await engine.confirm(plan.job_id, plan.digest)
        return plan.job_id

    app = PhasegridApp(factory, start=start, simulated=True, refresh_hz=args.hz)
    probe = Probe()
    probe.install(app)
    ticks: list[float] = []
    applied = [0]
    original_tick = JobScreen.tick

    async def timed_tick(screen: JobScreen) -> None:
        n = len(screen.pending)
        t0 = time.perf_counter()
        await original_tick(screen)
        if probe.measuring:
            ticks.append((time.perf_counter() - t0) * 1000)
            applied[0] += n

    JobScreen.tick = timed_tick  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(200, 60)):
            deadline = time.monotonic() + 300
            while not (isinstance(app.screen, JobScreen) and app.screen.grid is not None):
                if time.monotonic() > deadline:
                    raise SystemExit("the job screen never opened")
                await asyncio.sleep(0.05)
            screen: JobScreen = app.screen
            grid = screen.grid
            probe.grid = grid
            await asyncio.sleep(1.0)  # warm up: first batches, caches
            probe.measuring = True
            t_start = time.monotonic()
            moves = 0
            while time.monotonic() - t_start < args.seconds:
                target = grid.cursor_row + (1 if moves % 40 < 20 else -1)
                probe.key_target = max(0, target)
                probe.key_t0 = time.perf_counter()
                key = "down" if moves % 40 < 20 else "up"
                app.post_message(events.Key(key, None))
                moves += 1
                await asyncio.sleep(0.2)
            elapsed = time.monotonic() - t_start
            probe.measuring = False
            view = screen.view
    finally:
        server.stop(force=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = applied[0] / elapsed if elapsed else 0.0
    f50, f95 = pct(probe.frames, 50), pct(probe.frames, 95)
    k50, k95 = pct(probe.key_latency, 50), pct(probe.key_latency, 95)
    print(f"units={args.units} phases=9 seconds={elapsed:.1f}")
    print(f"plan of {args.units} units took {plan_t.get('plan', 0):.1f} s")
    print(f"engine events applied by the screen: {applied[0]} ({rate:.0f}/s)")
    if view is not None:
        done = view.transitions_done
        print(f"cells done: {done}/{view.transitions_total} (2 state changes each;")
        print(f"  target {args.rate:.0f} state changes/s)")
    print(f"frames={len(probe.frames)} p50={f50:.2f} ms p95={f95:.2f} ms")
    print(f"frame max={max(probe.frames or [0]):.2f} ms")
    print(f"batch apply at {args.hz:g} Hz: n={len(ticks)} p50={pct(ticks, 50):.2f} ms")
    print(f"batch apply p95={pct(ticks, 95):.2f} ms")
    print(f"key-to-screen (cursor moves): n={len(probe.key_latency)} p50={k50:.1f} ms")
    print(f"key-to-screen p95={k95:.1f} ms")
    print(f"peak RSS (app + engine): {rss_mb:.0f} MB")
    print(f"tui_p95_frame_ms={f95:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--units", type=int, default=10_000)
    p.add_argument("--rate", type=float, default=2000.0, help="state changes per second")
    p.add_argument("--hz", type=float, default=4.0, help="batch applies per second")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
