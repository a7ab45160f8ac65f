"""TUI test plumbing: apps on the real Redis fixture, a fixed clock for
snapshots, and pytest-textual-snapshot baselines kept in the top-level
`snapshots/` folder (not `__snapshots__/` beside the tests)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path, PurePath
from types import SimpleNamespace
from typing import Any

import pytest
from redis.asyncio import Redis

from app.commands.tui import demo_ap_serials, demo_registry_factory
from app.runtime import RuntimeSettings, open_runtime
from app.tui import PhasegridApp
from app.tui.synthetic import SynthControl, synthetic_registry_factory
from engine import Engine, EngineConfig

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_DIR = ROOT / "snapshots"
FIXED_NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def fixed_clock() -> float:
    return FIXED_NOW


@asynccontextmanager
async def fixed_runtime(
    redis_url: str, prefix: str, registry: Any, *, max_in_flight: int = 1
) -> AsyncIterator[Any]:
    """An engine with a frozen clock (stable elapsed/ETA/timestamps) on the real Redis."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    config = EngineConfig(prefix=prefix, max_in_flight=max_in_flight, simulated=True)
    engine = Engine(redis, registry, config, clock=fixed_clock, seed=1)
    try:
        async with engine.running(worker=True):
            yield SimpleNamespace(engine=engine, simulated=True)
    finally:
        await redis.aclose()


def sim_app(
    redis_url: str,
    prefix: str,
    *,
    control: SynthControl | None = None,
    start: Callable[[Any], Any] | None = None,
    use_sim: bool = False,
    demo_units: int = 48,
    **kw: Any,
) -> PhasegridApp:
    """The real app on a real engine (simulator backend) with synthetic workflows."""
    control = control or SynthControl()
    registry_factory = synthetic_registry_factory(control)
    if use_sim:
        registry_factory = demo_registry_factory((0.0, 0.0))
    settings = RuntimeSettings(
        redis_url=redis_url,
        engine=EngineConfig(prefix=prefix),
        sim_profile="instant",
        rate_limit_per_minute=60_000,  # the client-side budget would pace the test, not the app
        sim_extra_serials=demo_ap_serials(demo_units) if use_sim else [],
    )

    def factory() -> Any:
        return open_runtime(settings, registry_factory=registry_factory)

    return PhasegridApp(factory, start=start, simulated=True, refresh_hz=20.0, **kw)


@pytest.fixture
def snap_compare(snapshot: Any, request: pytest.FixtureRequest) -> Callable[..., bool]:
    """Like pytest-textual-snapshot's fixture, with baselines in `snapshots/`."""
    from pytest_textual_snapshot import SVGImageExtension
    from textual._doc import take_svg_screenshot

    class TopLevelSVG(SVGImageExtension):
        @classmethod
        def dirname(cls, *, test_location: Any) -> str:
            return str(SNAPSHOT_DIR / Path(test_location.filepath).stem)

    snap = snapshot.use_extension(TopLevelSVG)

    def compare(
        app: PhasegridApp | str | PurePath,
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: Callable[[Any], Any] | None = None,
    ) -> bool:
        svg = take_svg_screenshot(
            app=app, press=press, terminal_size=terminal_size, run_before=run_before
        )
        ok = snap == svg
        if not ok:  # keep the actual picture for a look (tmp, never committed)
            out = Path(os.environ.get("TUI_SNAPSHOT_ACTUAL", "/tmp/tui_snapshot_actual"))
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{request.node.name}.svg").write_text(svg, encoding="utf-8")
        return ok

    return compare
