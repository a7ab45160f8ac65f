"""`phasegrid` (no sub-command) / `phasegrid tui`: the TUI on the embedded Redis
(or --redis-url) with the engine in-process; `phasegrid demo`: the TUI on the
built-in simulator with a 48-unit job planned and its plan review on screen."""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from rpc.principal import local

DEMO_WORKFLOW = "per_unit_dpsk"
PROFILES = ["instant", "fast", "demo", "realistic"]


def host_port(value: str) -> str:
    from app.cli import host_port as check

    return check(value)


def add_parser(subparsers: Any) -> None:
    tui = subparsers.add_parser("tui", help="open the TUI (jobs, plans, live progress)")
    _common(tui)
    tui.add_argument(
        "--backend",
        choices=["auto", "sim", "sim-url", "r1"],
        default="auto",
        help="R1 backend for jobs run here (auto: r1 when R1_CLIENT_ID is set, else sim)",
    )
    tui.add_argument("--sim-url", default=None, help="a `phasegrid sim` server (backend sim-url)")
    tui.set_defaults(func=run_tui)

    demo = subparsers.add_parser("demo", help="the TUI on the simulator with a job ready to run")
    _common(demo)
    demo.add_argument(
        "--profile",
        choices=PROFILES,
        default=os.environ.get("PHASEGRID_DEMO_PROFILE", "demo"),
        help="simulator latency profile (default: demo, about a minute)",
    )
    demo.add_argument("--units", type=int, default=int(os.environ.get("PHASEGRID_DEMO_UNITS", 48)))
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=run_demo)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--serve",
        nargs="?",
        const="127.0.0.1:8765",
        default=argparse.SUPPRESS,  # keeps a top-level `phasegrid --serve HOST:PORT tui`
        type=host_port,
        metavar="HOST:PORT",
        help="also serve /rpc and /mcp for this engine (default 127.0.0.1:8765), so a "
        "script or an agent can confirm the plan you are looking at",
    )
    p.add_argument("--data-dir", default=None, help="embedded Redis data directory")
    p.add_argument("--no-worker", action="store_true", help="do not run jobs in this process")
    p.add_argument("--refresh-hz", type=float, default=4.0, help="screen updates per second")


def default_command(args: argparse.Namespace) -> int:
    for name, value in (
        ("backend", "auto"),
        ("sim_url", None),
        ("data_dir", None),
        ("no_worker", False),
        ("refresh_hz", 4.0),
    ):
        if not hasattr(args, name):
            setattr(args, name, value)
    return run_tui(args)


def _settings(args: argparse.Namespace, **kw: Any) -> Any:
    from app.runtime import RuntimeSettings

    return RuntimeSettings(
        redis_url=getattr(args, "redis_url", None),
        data_dir=Path(args.data_dir) if getattr(args, "data_dir", None) else None,
        worker=not getattr(args, "no_worker", False),
        **kw,
    )


def _factory(
    settings: Any,
    registry_factory: Callable[[], Any] | None = None,
    serve: str | None = None,
    app: Any = None,
) -> Callable[[], Any]:
    from app.runtime import open_runtime

    if not serve:

        def factory() -> Any:
            return open_runtime(settings, registry_factory=registry_factory)

        return factory

    host, _, port = serve.rpartition(":")

    @asynccontextmanager
    async def serving() -> AsyncIterator[Any]:
        from rpc.http import serve_in_background

        async with (
            open_runtime(settings, registry_factory=registry_factory) as rt,
            serve_in_background(rt.engine, host or "127.0.0.1", int(port)) as srv,
        ):
            token = f" (bearer token {srv.token})" if srv.token else ""
            if app[0] is not None:
                app[0].notify(f"Serving /rpc and /mcp on {srv.url}{token}", timeout=20)
            yield rt

    return serving


def run_tui(args: argparse.Namespace) -> int:
    from app.tui import PhasegridApp

    backend = args.backend
    if backend == "auto":
        backend = "r1" if os.environ.get("R1_CLIENT_ID") else "sim"
    settings = _settings(args, backend=backend, sim_url=args.sim_url)
    holder: list[Any] = [None]
    app = PhasegridApp(
        _factory(settings, demo_registry_factory(), getattr(args, "serve", None), holder),
        simulated=settings.simulated,
        refresh_hz=args.refresh_hz,
        workflow=DEMO_WORKFLOW,
    )
    holder[0] = app
    return int(app.run() or 0)


# -- demo -------------------------------------------------------------------------------


def demo_registry_factory(
    delay: tuple[float, float] = (1.0, 5.0), seed: int = 7
) -> Callable[[], Any]:
    """The real workflows, plus the synthetic demo ones when `per_unit_dpsk` is absent."""

    def factory() -> Any:
        from app.tui.synthetic import SynthControl, synthetic_specs

        try:
            from workflows.catalog import build_registry

            registry = build_registry()
        except ImportError:
            from engine import Registry

            registry = Registry()
        if DEMO_WORKFLOW not in registry:
            for spec in synthetic_specs(SynthControl(delay=delay, seed=seed)):
                if spec.name not in registry:
                    registry.register(spec)
        return registry

    return factory


def _fill_options(schema: dict[str, Any] | None, venue: str) -> dict[str, Any]:
    """Defaults for the demo: any required venue-like option gets the simulator's venue."""
    out: dict[str, Any] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if "venue" in name.lower() and "default" not in prop:
            out[name] = venue
    return out


def demo_ap_serials(units: int, seed: int = 0) -> list[str]:
    """The sample units' AP serials: the simulated venue must hold them."""
    try:
        from workflows.inputs.samples import sample_units
    except ImportError:
        return []
    return [s for u in sample_units(units, seed=seed) for s in u.ap_serials]


async def plan_demo(engine: Any, units: int = 48, seed: int = 0) -> str:
    """Plan the demo job; return its id (its plan review opens first)."""
    names = {w.name for w in engine.workflows()}
    if DEMO_WORKFLOW in names:
        from workflows.inputs.samples import sample_units

        desc = engine.describe(DEMO_WORKFLOW)
        plan = await engine.plan(
            DEMO_WORKFLOW,
            sample_units(units, seed=seed),
            _fill_options(desc.options_schema, "Sim Venue"),
            title=f"Demo: {units} units",
            principal=local(),
        )
    else:
        from app.tui.synthetic import DEMO_WORKFLOW as SYNTH
        from app.tui.synthetic import synthetic_units

        plan = await engine.plan(
            SYNTH, synthetic_units(units, seed=seed), {}, title=f"Demo: {units} units",
            principal=local(),
        )  # fmt: skip
    return plan.job_id


def run_demo(args: argparse.Namespace) -> int:
    from app.tui import PhasegridApp

    fast = args.profile in ("instant", "fast")
    delay = (0.0, 0.0) if args.profile == "instant" else (0.02, 0.1) if fast else (1.0, 5.0)
    settings = _settings(
        args,
        backend="sim",
        sim_profile=args.profile,
        sim_seed=args.seed,
        sim_extra_serials=demo_ap_serials(args.units),
    )

    async def start(engine: Any) -> str:
        return await plan_demo(engine, args.units, args.seed)

    holder: list[Any] = [None]
    app = PhasegridApp(
        _factory(
            settings, demo_registry_factory(delay, args.seed), getattr(args, "serve", None), holder
        ),
        start=start,
        simulated=True,
        refresh_hz=args.refresh_hz,
        workflow=DEMO_WORKFLOW,
    )
    holder[0] = app
    return int(app.run() or 0)
