"""The CLI as a client of a running `phasegrid serve` (JSON-RPC over HTTP).

    phasegrid submit per_unit_dpsk units.csv -o venue="Sim Venue" --server http://host:8765
    phasegrid confirm JOB DIGEST
    phasegrid watch JOB            # progress lines; exit code from the final status
    phasegrid status [JOB]         # a job, and the tenant rate limits the workers share
    phasegrid jobs | cancel JOB [--hard] | retry JOB | cleanup JOB | audit JOB

The server comes from --server (default $PHASEGRID_SERVER, else
http://127.0.0.1:8765), the token from --token (default $PHASEGRID_TOKEN).
--json prints one JSON document (the RPC result or error) for machines.

Exit codes: 0 ok / COMPLETED, 1 FAILED or CANCELLED or refused, 2 PARTIAL,
3 plan has conflicts, 4 wrong state / digest mismatch / plan expired /
confirmation required, 5 watch timed out, 64 usage, 65 invalid input,
66 not found, 69 server unreachable, 77 unauthorized or forbidden.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from app.exits import (
    EXIT_BY_STATUS,
    EXIT_CONFLICTS,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_TIMEOUT,
)
from app.remote_text import (
    _err,
    _json,
    _out,
    job_text,
    limits_text,
    plan_text,
    progress_line,
    table,
)
from app.rpc_client import SETTLED, RemoteError, RpcClient

DEFAULT_SERVER = "http://127.0.0.1:8765"
SERVER_ENV = "PHASEGRID_SERVER"
TOKEN_ENV = "PHASEGRID_TOKEN"

# -- input ------------------------------------------------------------------------------


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """`--option` pairs, parsed exactly as the local `plan`/`run` do."""
    from app.commands.plan import parse_options as parse
    from engine.errors import InputError

    try:
        return parse(pairs)
    except InputError as exc:
        raise RemoteError("; ".join(exc.details) or exc.message, kind="invalid_input") from None


def load_units(workflow: str, path: Path) -> tuple[list[Any], dict[str, Any]]:
    """Units (and implied options) from a file: the workflow's own loader when this
    install knows the workflow, else a JSON list / {"units": [...], "options": {...}}."""
    if not path.exists():
        raise RemoteError(f"{path}: no such file", kind="invalid_input")
    try:
        from app.runtime import default_registry
        from engine.codec import dump_revealed

        registry = default_registry()
    except Exception:
        registry = None
    if registry is not None and workflow in registry:
        from engine.errors import PhasegridError

        try:
            from app.commands.plan import load_input

            units, implied = load_input(registry.get(workflow).extra.get("load_input"), path)
        except PhasegridError as exc:
            raise RemoteError(str(exc), kind="invalid_input") from None
        if not all(isinstance(u, dict) or hasattr(u, "model_dump") for u in units):
            raise RemoteError(
                f"{path}: {workflow} has no unit loader for this file; "
                "pass a JSON list of units (or {'units': [...], 'options': {...}})",
                kind="invalid_input",
            )
        return [json.loads(dump_revealed(u)) for u in units], implied
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RemoteError(f"{path}: not a JSON units file ({type(exc).__name__})",
                          kind="invalid_input") from None  # fmt: skip
    if isinstance(doc, list):
        return doc, {}
    if isinstance(doc, dict) and isinstance(doc.get("units"), list):
        return doc["units"], dict(doc.get("options") or {})
    raise RemoteError(
        f"{path}: expected a list of units or {{'units': [...]}}", kind="invalid_input"
    )


# -- commands ---------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> RpcClient:
    server = args.server or os.environ.get(SERVER_ENV) or DEFAULT_SERVER
    return RpcClient(server, args.token or os.environ.get(TOKEN_ENV))


def _run(args: argparse.Namespace, body: Any) -> int:
    try:
        with _client(args) as rpc:
            return int(body(rpc, args))
    except RemoteError as exc:
        if getattr(args, "json", False):
            _json({"error": {"kind": exc.kind, "code": exc.code, "message": exc.message,
                             "data": exc.data}})  # fmt: skip
        else:
            _err(f"phasegrid: {exc.message}")
            for e in (exc.data or {}).get("errors", [])[:50] if isinstance(exc.data, dict) else []:
                _err(f"  {e.get('path')}: {e.get('message')}")
        return exc.exit_code


def cmd_submit(args: argparse.Namespace) -> int:
    def body(rpc: RpcClient, args: argparse.Namespace) -> int:
        units, implied = load_units(args.workflow, args.input)
        params = {"workflow": args.workflow, "units": units,
                  "options": {**implied, **parse_options(args.option)}}  # fmt: skip
        if args.title:
            params["title"] = args.title
        if args.max_failed_units is not None:
            params["max_failed_units"] = args.max_failed_units
        plan = rpc.call("jobs.plan", params, timeout=300)
        if args.json:
            _json(plan)
        else:
            _out(plan_text(plan))
            if not plan["conflicts_total"]:
                extra = (
                    f" --confirm-text {plan['summary']['confirm_text']!r}"
                    if plan["summary"].get("destructive")
                    else ""
                )
                _out(f"Confirm with: phasegrid confirm {plan['job_id']} {plan['digest']}{extra}")
        return EXIT_CONFLICTS if plan["conflicts_total"] else EXIT_OK

    return _run(args, body)


def cmd_confirm(args: argparse.Namespace) -> int:
    def body(rpc: RpcClient, args: argparse.Namespace) -> int:
        params = {"job_id": args.job, "digest": args.digest}
        if args.confirm_text is not None:
            params["confirm_text"] = args.confirm_text
        view = rpc.call("jobs.confirm", params)
        if args.wait:
            return _watch(rpc, args, view)
        if args.json:
            _json(view)
        else:
            _out(f"confirmed: job {view['id']} is {view['status']}")
        return EXIT_OK

    return _run(args, body)


def cmd_status(args: argparse.Namespace) -> int:
    """A job (if given) and the tenant rate limits every worker shares."""

    def body(rpc: RpcClient, args: argparse.Namespace) -> int:
        view = rpc.call("jobs.get", {"job_id": args.job}) if args.job else None
        try:
            limits = rpc.call("engine.rate_limits", {})["limits"]
        except RemoteError:
            if view is None:
                raise
            limits = None  # a server from before shared limits: the job alone
        if args.json:
            _json({**view, "rate_limits": limits} if view is not None else {"limits": limits})
            return EXIT_OK
        if view is not None:
            _out(job_text(view))
        if limits is not None:
            _out(limits_text(limits))
        return EXIT_OK

    return _run(args, body)


def _watch(rpc: RpcClient, args: argparse.Namespace, view: dict[str, Any]) -> int:
    tty = sys.stdout.isatty() and not args.json
    deadline = time.monotonic() + args.timeout if args.timeout else None
    last_line = ""
    last_print = 0.0
    while True:
        if view["status"] in SETTLED:
            break
        if deadline is not None and time.monotonic() >= deadline:
            if tty:
                print(file=sys.stdout)
            _json(view) if args.json else _out(f"timed out: {progress_line(view)}")
            return EXIT_TIMEOUT
        if not args.json:
            line = progress_line(view)
            now = time.monotonic()
            if tty:
                print("\r" + line, end="", flush=True)
            elif line != last_line and now - last_print >= args.interval:
                _out(line)
                last_line, last_print = line, now
        left = 5.0 if deadline is None else max(0.0, min(5.0, deadline - time.monotonic()))
        try:
            view = rpc.call("jobs.wait", {"job_id": view["id"], "timeout": left}, timeout=left + 30)
        except RemoteError as exc:  # the server's Redis restarts: keep watching
            if exc.kind != "redis_unavailable":
                raise
            _err(f"phasegrid: {exc.message}; still watching")
            time.sleep(min(1.0, left))
    if args.json:
        _json(view)
    else:
        if tty:
            print(file=sys.stdout)
        _out(progress_line(view))
        _out(f"{view['status']} job {view['id']}")
    if view["status"] == "AWAITING_CONFIRMATION":
        return EXIT_REFUSED
    return EXIT_BY_STATUS.get(view["status"], EXIT_FAILED if view["status"] == "PAUSED" else 0)


def cmd_watch(args: argparse.Namespace) -> int:
    def body(rpc: RpcClient, args: argparse.Namespace) -> int:
        return _watch(rpc, args, rpc.call("jobs.get", {"job_id": args.job}))

    return _run(args, body)


def _view_cmd(method: str, verb: str, extra: Any = None) -> Any:
    def cmd(args: argparse.Namespace) -> int:
        def body(rpc: RpcClient, args: argparse.Namespace) -> int:
            params = {"job_id": args.job, **(extra(args) if extra else {})}
            view = rpc.call(method, params)
            _json(view) if args.json else _out(f"{verb}: job {view['id']} is {view['status']}")
            return EXIT_OK

        return _run(args, body)

    return cmd


def cmd_cleanup(args: argparse.Namespace) -> int:
    def body(rpc: RpcClient, args: argparse.Namespace) -> int:
        plan = rpc.call("jobs.cleanup", {"job_id": args.job})
        if args.json:
            _json(plan)
        else:
            _out(plan_text(plan))
            text = plan["summary"].get("confirm_text")
            _out(
                f"Confirm with: phasegrid confirm {plan['job_id']} {plan['digest']}"
                + (f" --confirm-text {text!r}" if text else "")
            )
        return EXIT_CONFLICTS if plan["conflicts_total"] else EXIT_OK

    return _run(args, body)


def cmd_audit(args: argparse.Namespace) -> int:
    def body(rpc: RpcClient, args: argparse.Namespace) -> int:
        report = rpc.call("jobs.audit", {"job_id": args.job})
        if args.json:
            _json(report)
        else:
            counts = ", ".join(f"{n} {s}" for s, n in report["counts"].items() if n)
            _out(f"audit of job {report['job_id']}: {counts or 'nothing to check'}")
            bad = [i for i in report["items"] if i["status"] != "present"]
            if bad:
                rows = [[i["unit"], i["resource"], i["name"] or i["id"], i["status"], i["detail"]]
                        for i in bad[:200]]  # fmt: skip
                _out(table(rows, ["unit", "resource", "name", "status", "detail"]))
        return EXIT_OK if all(i["status"] == "present" for i in report["items"]) else EXIT_FAILED

    return _run(args, body)


def cmd_jobs(args: argparse.Namespace) -> int:
    def body(rpc: RpcClient, args: argparse.Namespace) -> int:
        params: dict[str, Any] = {"limit": args.limit}
        if args.status:
            params["status"] = args.status
        result = rpc.call("jobs.list", params)
        if args.json:
            _json(result)
            return EXIT_OK
        rows = [
            [j["id"], j["workflow"], j["status"], f"{j['units_done']}/{j['units_total']}",
             j["units_failed"], time.strftime("%Y-%m-%d %H:%M", time.localtime(j["created_at"])),
             j.get("title") or ""]
            for j in result["jobs"]
        ]  # fmt: skip
        _out(table(rows, ["job", "workflow", "status", "done", "failed", "created", "title"]))
        return EXIT_OK

    return _run(args, body)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        default=None,
        help=f"phasegrid serve URL (default ${SERVER_ENV}, else {DEFAULT_SERVER})",
    )
    p.add_argument("--token", default=None, help=f"bearer token (default ${TOKEN_ENV})")
    p.add_argument("--json", action="store_true", help="print JSON for machines")


def _watch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, default=None, help="give up after N seconds (exit 5)")
    p.add_argument("--interval", type=float, default=2.0,
                   help="seconds between plain progress lines when not on a TTY")  # fmt: skip


def add_parser(sub: argparse._SubParsersAction) -> None:
    def add(name: str, helptext: str) -> argparse.ArgumentParser | None:
        try:
            p = sub.add_parser(name, help=helptext, description=helptext)
        except argparse.ArgumentError:  # another command module owns this name
            return None
        _common(p)
        return p

    if p := add("submit", "plan a job on a server (nothing is written until confirmed)"):
        p.add_argument("workflow")
        p.add_argument("input", type=Path, help="units file (CSV/JSON, or the workflow's format)")
        p.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE")
        p.add_argument("--title", default=None)
        p.add_argument("--max-failed-units", type=int, default=None)
        p.set_defaults(func=cmd_submit)
    if p := add("confirm", "confirm a reviewed plan by its digest (the job starts)"):
        p.add_argument("job")
        p.add_argument("digest")
        p.add_argument("--confirm-text", default=None, help="destructive plans: the text to type")
        p.add_argument("--wait", action="store_true", help="then watch the job to its end")
        _watch_args(p)
        p.set_defaults(func=cmd_confirm)
    if p := add("status", "show a job, and the tenant rate limits the workers share"):
        p.add_argument("job", nargs="?", default=None)
        p.set_defaults(func=cmd_status)
    if p := add("watch", "follow a job to its end (exit code from its final status)"):
        p.add_argument("job")
        _watch_args(p)
        p.set_defaults(func=cmd_watch)
    if p := add("cancel", "cancel a job (graceful unless --hard)"):
        p.add_argument("job")
        p.add_argument("--hard", action="store_true")
        mode = lambda a: {"mode": "hard" if a.hard else "graceful"}  # noqa: E731
        p.set_defaults(func=_view_cmd("jobs.cancel", "cancelling", mode))
    if p := add("retry", "re-run the failed units of a job"):
        p.add_argument("job")
        p.add_argument("--unit", action="append", default=None, help="only this unit (repeatable)")
        p.set_defaults(func=_view_cmd("jobs.retry", "retrying",
                                      lambda a: {"units": a.unit} if a.unit else {}))  # fmt: skip
    if p := add("discard", "discard a plan awaiting confirmation"):
        p.add_argument("job")
        p.set_defaults(func=_view_cmd("jobs.discard", "discarded"))
    if p := add("cleanup", "plan the deletion of what a job created (confirm it afterwards)"):
        p.add_argument("job")
        p.set_defaults(func=cmd_cleanup)
    if p := add("audit", "check that what a job created is still there"):
        p.add_argument("job")
        p.set_defaults(func=cmd_audit)
    if p := add("jobs", "list jobs on a server"):
        p.add_argument("--status", default=None)
        p.add_argument("--limit", type=int, default=50)
        p.set_defaults(func=cmd_jobs)
