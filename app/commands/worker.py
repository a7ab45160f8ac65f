"""`phasegrid worker`: a headless engine that claims and runs confirmed jobs of one
target (a `phasegrid sim` URL, or the R1 tenant of the R1_* environment): no HTTP
server, no TUI. Any number of workers, on any machines, share one Redis.

    phasegrid worker --redis-url redis://10.0.0.5:6379 --concurrency 32
    phasegrid worker --sim-url http://127.0.0.1:8799 --lease-ttl 2

SIGTERM or SIGINT drains the worker: it claims nothing more, its jobs start no new
cell while their calls in flight land (at most --drain-timeout seconds), then each
job is left RUNNING with its lease released and queued again, so another worker
resumes it at once; exit 0. A second signal exits at once (exit 128+signal): the
leases of its jobs then expire after --lease-ttl and another worker takes over.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from typing import Any

import anyio

from app.commands.serve import add_job_options
from app.exits import EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, err, run_guarded

log = logging.getLogger("phasegrid.worker")


def _positive_int(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _seconds(value: str) -> float:
    s = float(value)
    if not s >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {value}")
    return s


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "worker",
        help="run confirmed jobs headless (no server, no TUI); scale out with more of them",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--redis-url",
        default=argparse.SUPPRESS,  # keeps a top-level `phasegrid --redis-url URL worker`
        help="the shared Redis (default: $PHASEGRID_REDIS_URL, else the embedded server)",
    )
    p.add_argument(
        "--backend",
        choices=("sim-url", "r1"),
        default=None,
        help="the target whose jobs this worker runs: a `phasegrid sim` server, or the R1 "
        "tenant of the R1_* environment (default: sim-url with --sim-url, else r1)",
    )
    p.add_argument("--sim-url", default=None, help="the `phasegrid sim` server (its target)")
    p.add_argument(
        "--concurrency",
        type=_positive_int,
        default=64,
        metavar="N",
        help="cells in flight at most, across every job of this worker (default 64)",
    )
    p.add_argument(
        "--drain-timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long calls in flight may take to land (default 30)",
    )
    add_job_options(p)
    p.add_argument("--log-level", default="info", help="of this worker's lines (default info)")
    p.set_defaults(func=cmd_worker)


def worker_settings(args: argparse.Namespace) -> Any:
    """The runtime of `serve`, bound to this worker's target, with its worker off:
    `cmd_worker` runs the claim loop itself, to drain it."""
    from app.commands.serve import runtime_settings

    args.backend = args.backend or ("sim-url" if args.sim_url else "r1")
    args.sim_profile, args.sim_extra_serials, args.no_worker = "fast", "", True
    settings = runtime_settings(args)
    engine = settings.engine.model_copy(update={"max_in_flight": args.concurrency})
    return settings.model_copy(update={"engine": engine})


def _logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    log.setLevel(level.upper())


def cmd_worker(args: argparse.Namespace) -> int:
    from app.commands.serve import load_registry_factory
    from app.runtime import open_runtime

    try:
        _logging(args.log_level)
    except ValueError as exc:
        err(f"phasegrid worker: {exc}")
        return EXIT_USAGE

    async def body() -> int:
        settings = worker_settings(args)
        if settings.backend == "r1":  # a missing R1_* setting: one line, before starting
            from workflows.r1 import R1Config

            R1Config.from_env()
        factory = load_registry_factory(args.registry)
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async with anyio.create_task_group() as watch:  # outlives the runtime's teardown
                async with open_runtime(settings, registry_factory=factory) as rt:
                    worker = rt.engine.worker
                    worker.slots = anyio.CapacityLimiter(args.concurrency)
                    print(banner(rt, args.concurrency), flush=True)
                    await serve_until_drained(worker, signals, watch, args.drain_timeout)
                watch.cancel_scope.cancel()
        log.info("%s: stopped", worker.id)
        return EXIT_OK

    return run_guarded(body, by_kind={"redis_unavailable": EXIT_UNAVAILABLE}, signals=False)


def banner(rt: Any, concurrency: int) -> str:
    simulated = " (SIMULATED backend)" if rt.simulated else ""
    return (
        f"phasegrid worker {rt.engine.worker.id}: jobs of {rt.engine.target.describe()}"
        f"{simulated}, concurrency {concurrency}, lease TTL {rt.engine.config.lease_ttl:g}s"
    )


async def serve_until_drained(worker: Any, signals: Any, watch: Any, drain_timeout: float) -> None:
    """Claim and run jobs until SIGTERM/SIGINT, then drain: no new job, no new cell,
    the calls in flight land within `drain_timeout`, then whatever still runs is
    interrupted (its job released and queued again). From the first signal on,
    `watch` (which outlives the runtime's teardown) exits at a second one."""
    async with anyio.create_task_group() as tg:
        claiming = anyio.CancelScope()

        async def claim() -> None:
            with claiming:
                await worker.serve(tg)

        tg.start_soon(claim)
        signum = await anext(signals)
        watch.start_soon(_exit_on_second, signals, worker.id)
        claiming.cancel()
        worker.drain()
        log.info(
            "%s: draining on %s: %d job(s) running, at most %gs",
            worker.id, signal.Signals(signum).name, len(worker.running_jobs()), drain_timeout,
        )  # fmt: skip
        with anyio.move_on_after(drain_timeout) as bounded:
            await worker.drained()
        if bounded.cancelled_caught:
            log.warning("%s: drain timed out; interrupting the calls in flight", worker.id)
        tg.cancel_scope.cancel()


async def _exit_on_second(signals: Any, worker_id: str) -> None:
    async for signum in signals:
        log.warning("%s: second %s: exiting now, leases expire", worker_id,
                    signal.Signals(signum).name)  # fmt: skip
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(128 + signum)
