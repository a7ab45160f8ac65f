"""A job's outputs at the command line.

    phasegrid results JOB [--format csv|json] [-o FILE] [--server URL]
    phasegrid events JOB [--server URL]        # who did what: principals included
    phasegrid handout JOB -o FILE [--force] [--sim-url URL | --backend r1]

`results` and `events` read the local store (like `plan`/`run`), or a `phasegrid
serve` with --server (like `watch`). `handout` is local only: it reads the job's
created passphrases live from R1 and writes them to a new 0600 file; it never prints
one, and it refuses once the job was purged (phasegrid keeps no passphrase).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from app.exits import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_OK, err, run_guarded

PURGED = "job {job} was purged: its passphrases are no longer available from phasegrid"


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    else:
        output.write_text(text, encoding="utf-8")
        err(f"wrote {output}")


def _local_settings(args: argparse.Namespace, **kw: Any) -> Any:
    from app.runtime import RuntimeSettings

    return RuntimeSettings(redis_url=args.redis_url, worker=False, **kw)


# -- results ------------------------------------------------------------------------------


def results_text(doc: dict[str, Any], fmt: str) -> str:
    """The same text whether the rows came from the local engine or a server."""
    if fmt == "csv":
        return str(doc["csv"])
    return json.dumps(doc, indent=2)


def cmd_results(args: argparse.Namespace) -> int:
    if args.server:
        from app.commands.remote import _run

        def remote(rpc: Any, args: argparse.Namespace) -> int:
            doc = rpc.call("jobs.results", {"job_id": args.job, "format": args.format,
                                            "limit": 5000})  # fmt: skip
            _write(results_text(_whole(rpc, args, doc), args.format), args.output)
            return EXIT_OK

        return _run(args, remote)

    async def body(args: argparse.Namespace) -> int:
        from app.runtime import open_runtime
        from rpc.output_ops import results_result

        async with open_runtime(_local_settings(args)) as rt:
            report = await rt.engine.results(args.job)
        doc = results_result(report, args.format).model_dump(mode="json")
        _write(results_text(doc, args.format), args.output)
        return EXIT_OK

    return run_guarded(body, args)


def _whole(rpc: Any, args: argparse.Namespace, doc: dict[str, Any]) -> dict[str, Any]:
    """JSON pages from a server, joined: the same document as the local one."""
    if args.format == "csv":
        return doc
    while len(doc["units"]) < doc["total"]:
        more = rpc.call("jobs.results", {"job_id": args.job, "format": "json",
                                         "offset": len(doc["units"]), "limit": 5000})  # fmt: skip
        if not more["units"]:
            break
        doc["units"] += more["units"]
    return doc


# -- events -------------------------------------------------------------------------------


def event_text(ev: dict[str, Any]) -> str:
    """One line per event; `by <principal>` on what a person or client did."""
    when = time.strftime("%H:%M:%S", time.localtime(float(ev.get("ts") or 0)))
    where = "/".join(str(x) for x in (ev.get("unit"), ev.get("phase")) if x)
    detail = {
        "job_planned": ev.get("headline"), "job_confirmed": "plan confirmed",
        "job_status": f"{ev.get('status')}" + (f": {ev['reason']}" if ev.get("reason") else ""),
        "cancel_requested": f"cancel ({ev.get('mode')})", "job_finished": ev.get("status"),
        "log": ev.get("message"), "phase_failed": ev.get("error"),
    }.get(ev.get("type", ""), "")  # fmt: skip
    line = f"{when} {ev.get('type')}" + (f" {where}" if where else "")
    line += f" {detail}" if detail else ""
    return line + (f"  by {ev['principal']}" if ev.get("principal") else "")


def cmd_events(args: argparse.Namespace) -> int:
    if args.server:
        from app.commands.remote import _run

        def remote(rpc: Any, args: argparse.Namespace) -> int:
            after = None
            while True:
                params = {"job_id": args.job, "limit": 500, **({"after": after} if after else {})}
                page = rpc.call("jobs.events", params)
                for rec in page["events"]:
                    print(event_text(rec["event"]), flush=True)
                if not page["events"]:
                    return EXIT_OK
                after = page["cursor"]

        return _run(args, remote)

    async def body(args: argparse.Namespace) -> int:
        from app.runtime import open_runtime

        async with open_runtime(_local_settings(args)) as rt:
            after = None
            while batch := await rt.engine.events(args.job, after=after, limit=500):
                for rec in batch:
                    print(event_text(rec.event.model_dump(mode="json")), flush=True)
                after = batch[-1].cursor
        return EXIT_OK

    return run_guarded(body, args)


# -- handout ------------------------------------------------------------------------------


def cmd_handout(args: argparse.Namespace) -> int:
    if args.output.exists() and not args.force:
        err(f"phasegrid: {args.output} exists: not overwritten (pass --force to replace it)")
        return EXIT_FAILED

    async def body(args: argparse.Namespace) -> int:
        from app.runtime import open_runtime
        from workflows.handout import handout_csv, read_handout, write_private

        backend = args.backend or ("sim-url" if args.sim_url else "sim")
        settings = _local_settings(args, backend=backend, sim_url=args.sim_url)
        async with open_runtime(settings) as rt:
            if not await rt.engine.exists(args.job):
                gone = await rt.engine.was_listed(args.job)
                err(f"phasegrid: {PURGED.format(job=args.job)}" if gone else
                    f"phasegrid: no job {args.job} here (a purged job's passphrases are no "
                    "longer available from phasegrid)")  # fmt: skip
                return EXIT_NOT_FOUND
            view = await rt.engine.get(args.job)
            here = rt.engine.target.describe()
            if view.target and view.target != here:
                err(f"phasegrid: job {args.job} ran against {view.target}, not {here}: "
                    "pass the backend it ran against (--sim-url URL or --backend r1)")  # fmt: skip
                return EXIT_FAILED
            handout = await read_handout(rt.r1, await rt.engine.ledger(args.job))
        if not handout.wanted:
            err(f"phasegrid: job {args.job} created no passphrases: nothing to hand out")
            return EXIT_FAILED
        write_private(args.output, handout_csv(handout.rows), force=args.force)
        err(f"wrote {len(handout.rows)} passphrase(s) of job {args.job} to {args.output} (0600)")
        if handout.missing:
            err(f"phasegrid: {len(handout.missing)} passphrase(s) the job created are no longer "
                "on R1 (deleted since)")  # fmt: skip
            return EXIT_FAILED
        return EXIT_OK

    return run_guarded(body, args)


# -- the parsers --------------------------------------------------------------------------


def _server(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", default=None, help="a `phasegrid serve` URL (default: local)")
    p.add_argument("--token", default=None, help="bearer token (default $PHASEGRID_TOKEN)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("results", help="per-unit results of a job (unit, state, resources, "
                       "first error) as CSV or JSON")  # fmt: skip
    p.add_argument("job")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("-o", "--output", type=Path, default=None, help="write to FILE")
    _server(p)
    p.set_defaults(func=cmd_results, json=False)

    e = sub.add_parser("events", help="a job's events, with who planned, confirmed, "
                       "cancelled, retried or discarded it")  # fmt: skip
    e.add_argument("job")
    _server(e)
    e.set_defaults(func=cmd_events, json=False)

    h = sub.add_parser("handout", help="write the passphrases a job created to a new 0600 "
                       "file for the operator (never printed)")  # fmt: skip
    h.add_argument("job")
    h.add_argument("-o", "--output", type=Path, required=True, help="the file to create")
    h.add_argument("--force", action="store_true", help="replace FILE if it exists")
    h.add_argument("--backend", choices=("sim", "sim-url", "r1"), default=None,
                   help="the backend the job ran against (R1_* credentials for r1)")  # fmt: skip
    h.add_argument("--sim-url", default=None, help="the `phasegrid sim` the job ran against")
    h.set_defaults(func=cmd_handout)
