"""`phasegrid sim`: serve the R1 simulator over HTTP (uvicorn) for demos,
rehearsals and `curl`. Binds first, so `--port 0` prints the real port."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from typing import Any

from pydantic import ValidationError

from app.exits import EXIT_USAGE


class _QuietInjectedDrops(logging.Filter):
    """Injected dropped connections are the point, not a server bug: no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return "simulated dropped connection" not in str(exc or "")


def _span(value: str) -> tuple[float, float]:
    """'0.5' (fixed) or '0.5,1.5' (uniform between): seconds, before --time-scale."""
    try:
        low, _, high = value.partition(",")
        return float(low), float(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SECONDS or LOW,HIGH, got {value!r}") from None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("sim", help="serve a simulated RUCKUS One tenant over HTTP")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    p.add_argument("--profile", default="demo", choices=["instant", "fast", "demo", "realistic"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--aps", type=int, default=48, help="APs in the seeded venue")
    p.add_argument(
        "--faults", default=None, help="e.g. '5xx=0.02,drop=0.005,fail=0.01,permfail=0.005' or JSON"
    )
    p.add_argument(
        "--state", default=None, help="JSON state file: loaded if present, saved on exit"
    )
    p.add_argument("--snapshot", default=None, help="JSON tenant snapshot to start from")
    p.add_argument("--time-scale", type=float, default=1.0, help="multiplies every duration")
    p.add_argument(
        "--call-latency",
        type=_span,
        default=None,
        metavar="LOW[,HIGH]",
        help="seconds each call takes (drawn from the seeded RNG), instead of the profile's",
    )
    p.add_argument(
        "--activity-latency",
        type=_span,
        default=None,
        metavar="LOW[,HIGH]",
        help="seconds each async activity takes (seeded), instead of the profile's",
    )
    p.add_argument("--tenant-id", default="sim-tenant", help="the simulated tenant's id")
    p.add_argument(
        "--rate-limit",
        type=float,
        default=100.0,
        help="calls returned per second to each tenant x service bucket (R1: 100)",
    )
    p.add_argument("--rate-burst", type=int, default=200, help="bucket size (R1: 200)")
    p.add_argument("--no-retry-after", action="store_true", help="omit Retry-After on 429")
    p.add_argument("--extra-ap-serials", default="", help="comma-separated serials to add")
    p.add_argument(
        "--contract",
        default=None,
        choices=["off", "record", "enforce"],
        help="hold calls to R1's documents (default: $PHASEGRID_SIM_CONTRACT, else record)",
    )
    p.add_argument(
        "--record",
        default=None,
        metavar="FILE",
        help="append every request (secrets masked) to FILE as JSON lines",
    )
    p.add_argument("--log-level", default="warning")
    p.set_defaults(func=run)
    return p


def tcp_socket(host: str) -> socket.socket:
    """The server's socket, made as TCP explicitly: asyncio sets TCP_NODELAY only on
    connections of a socket whose protocol is IPPROTO_TCP, and without it every
    response waits for the client's delayed ACK (about 40 ms a call)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from workflows.sim import FaultConfig, SimConfig, Simulator

    try:
        config = SimConfig(
            profile=args.profile,
            seed=args.seed,
            aps=args.aps,
            faults=FaultConfig.parse(args.faults),
            state_file=args.state,
            snapshot_file=args.snapshot,
            time_scale=args.time_scale,
            call_latency=args.call_latency,
            activity_duration=args.activity_latency,
            tenant_id=args.tenant_id,
            rate_limit_per_second=args.rate_limit,
            rate_limit_burst=args.rate_burst,
            retry_after_header=not args.no_retry_after,
            extra_ap_serials=[s for s in args.extra_ap_serials.split(",") if s.strip()],
            record_file=args.record,
            **({"contract": args.contract} if args.contract else {}),
        )
    except ValidationError as exc:  # a flag's value: a usage error, one line per problem
        for e in exc.errors(include_url=False):
            print(f"phasegrid sim: {'.'.join(map(str, e['loc']))}: {e['msg']}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"phasegrid sim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sim = Simulator(config)
    sock = tcp_socket(args.host)
    try:
        sock.bind((args.host, args.port))
        sock.listen(2048)  # before the banner: a client that read it is queued, not refused
    except OSError as exc:
        print(f"phasegrid sim: cannot bind {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"R1 simulator on http://{host}:{port}  (profile {config.profile}, seed "
        f"{config.seed}, {len(sim.store.aps)} APs, venue {sim.venue_id})"
    )
    print(f"  tenant id     {config.tenant_id}")
    print(f"  client id     {config.client_id}")
    print(f"  client secret {config.client_secret}")
    print(
        f"  token         curl -s -X POST http://{host}:{port}/oauth2/token/{config.tenant_id}"
        f" -d grant_type=client_credentials -d client_id={config.client_id}"
        f" -d client_secret={config.client_secret}"
    )
    print(f"  stats         curl -s http://{host}:{port}/_sim/stats", flush=True)
    server = uvicorn.Server(uvicorn.Config(sim.app, log_level=args.log_level, lifespan="off"))
    logging.getLogger("uvicorn.error").addFilter(_QuietInjectedDrops())
    try:
        server.run(sockets=[sock])
    finally:
        if config.state_file:
            print(f"state saved to {sim.save()}", flush=True)
    return 0
