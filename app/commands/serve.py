"""`phasegrid serve` (JSON-RPC at /rpc and MCP at /mcp over HTTP) and
`phasegrid mcp` (MCP over stdio, for agents that launch their tools).

    phasegrid serve                       # http://127.0.0.1:8765, loopback only
    phasegrid serve --host 0.0.0.0        # off loopback: a bearer token is required
    PHASEGRID_TOKEN=... phasegrid serve --host 10.0.0.5 --allow-host rollout.example.com
    phasegrid mcp                         # an MCP server on stdin/stdout

Both run the engine (and a worker, unless --no-worker) on the configured
Redis; any number of them can share one Redis.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any

import anyio

from app.exits import EXIT_OK, EXIT_UNAVAILABLE, run_guarded
from engine.bounds import MAX_REQUEST_BYTES


def add_job_options(p: argparse.ArgumentParser) -> None:
    """Options of every process that runs jobs (`serve`, `worker`): one spelling."""
    p.add_argument("--prefix", default=None, help="Redis key prefix (default pg)")
    p.add_argument(
        "--lease-ttl",
        type=float,
        default=None,
        metavar="SECONDS",
        help="job lease TTL: how soon another worker takes over a dead one's job (default 15)",
    )
    p.add_argument(
        "--registry",
        default=None,
        metavar="MODULE:FUNC",
        help="workflow registry factory (default: the shipped R1 workflows)",
    )


def _engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend",
        choices=("sim", "sim-url", "r1"),
        default=None,
        help="R1 backend: in-process simulator (default), a `phasegrid sim` URL, "
        "or a real tenant (R1_* environment)",
    )
    p.add_argument("--sim-url", default=None, help="a `phasegrid sim` server to use")
    p.add_argument(
        "--sim-profile", default="fast", choices=("instant", "fast", "demo", "realistic")
    )
    p.add_argument(
        "--sim-extra-serials",
        default="",
        metavar="SERIALS",
        help="comma-separated AP serials the in-process simulator should also know "
        "(it always knows the shipped sample files' APs)",
    )
    p.add_argument(
        "--no-worker",
        action="store_true",
        help="do not run jobs in this process (another worker does)",
    )
    add_job_options(p)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve JSON-RPC (/rpc) and MCP (/mcp) over HTTP",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="bind address (default 127.0.0.1; off loopback a token is required)",
    )
    p.add_argument("--port", type=int, default=8765, help="port (0: any free port, printed)")
    p.add_argument(
        "--token",
        default=None,
        help="bearer token (default $PHASEGRID_TOKEN; generated off loopback)",
    )
    p.add_argument(
        "--token-name",
        default="default",
        help="the token's name: events record what its holders do as token:NAME",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another Host name clients use to reach this server (repeatable)",
    )
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin allowed to call (repeatable)",
    )
    p.add_argument("--max-body", type=int, default=MAX_REQUEST_BYTES, help="max request bytes")
    p.add_argument("--max-batch", type=int, default=50, help="max JSON-RPC batch size")
    p.add_argument("--log-level", default="warning")
    _engine_args(p)
    p.set_defaults(func=cmd_serve)

    m = sub.add_parser("mcp", help="serve MCP over stdio (for agents that launch tools)")
    _engine_args(m)
    m.set_defaults(func=cmd_mcp)


def load_registry_factory(spec: str | None) -> Callable[[], Any] | None:
    if not spec:
        return None
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name or "build_registry")


def sim_serials(extra: str) -> list[str]:
    """The APs the in-process simulator should hold beyond its generated ones: the
    shipped samples' (so `serve` plus `units_48.csv` plans without conflicts) and
    `--sim-extra-serials`."""
    from workflows.inputs.samples import sample_ap_serials

    given = [x.strip() for x in extra.split(",") if x.strip()]
    return list(dict.fromkeys([*sample_ap_serials(), *given]))


def runtime_settings(args: argparse.Namespace) -> Any:
    from app.runtime import RuntimeSettings
    from engine import EngineConfig

    backend = args.backend or ("sim-url" if args.sim_url else "sim")
    overrides = {"prefix": args.prefix, "lease_ttl": args.lease_ttl}
    engine = EngineConfig(**{k: v for k, v in overrides.items() if v is not None})
    return RuntimeSettings(
        redis_url=getattr(args, "redis_url", None),
        backend=backend,
        sim_url=args.sim_url,
        sim_profile=args.sim_profile,
        sim_extra_serials=sim_serials(args.sim_extra_serials),
        worker=not args.no_worker,
        engine=engine,
    )


def _guard(body: Callable[[], Any], *, signals: bool = True) -> int:
    by_kind = {"redis_unavailable": EXIT_UNAVAILABLE}
    return run_guarded(body, by_kind=by_kind, os_errors=True, signals=signals)


def cmd_serve(args: argparse.Namespace) -> int:
    from app.runtime import open_runtime
    from rpc.http import ServeSettings, serve_in_background

    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    settings = ServeSettings(
        host=args.host,
        port=args.port,
        token=args.token,
        allowed_hosts=args.allow_host,
        allowed_origins=args.allow_origin,
        max_body=args.max_body,
        max_batch=args.max_batch,
        token_name=args.token_name,
    )

    async def body() -> int:
        factory = load_registry_factory(args.registry)
        async with (
            open_runtime(runtime_settings(args), registry_factory=factory) as rt,
            serve_in_background(
                rt.engine, settings=settings, signals=True, log_level=args.log_level
            ) as server,
        ):
            simulated = " (SIMULATED backend)" if rt.simulated else ""
            print(f"phasegrid serve: {server.url}/rpc and {server.url}/mcp{simulated}", flush=True)
            if server.token and not args.token:
                print(f"token: {server.token}", flush=True)
            elif server.token:
                print("token: (as given)", flush=True)
            while not server.server.should_exit:
                await anyio.sleep(0.2)
        return EXIT_OK

    return _guard(body, signals=False)  # uvicorn stops gracefully on SIGTERM and SIGINT


def cmd_mcp(args: argparse.Namespace) -> int:
    from app.runtime import open_runtime
    from rpc.mcp_server import build_mcp

    logging.basicConfig(level="WARNING", stream=sys.stderr)

    async def body() -> int:
        factory = load_registry_factory(args.registry)
        async with open_runtime(runtime_settings(args), registry_factory=factory) as rt:
            await build_mcp(rt.engine).run_stdio_async()
        return EXIT_OK

    return _guard(body)
