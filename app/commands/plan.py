"""`phasegrid plan` and `phasegrid run`: the engine for scripts, no server needed.

    phasegrid plan per_unit_dpsk units.csv --option venue="Sim Venue"
    phasegrid run per_unit_psk units.csv --yes --json

Both work against the in-process simulator by default (labelled SIMULATED),
or a `phasegrid sim` URL (`--sim-url`), or a real tenant (`--backend r1` with
R1_* credentials in the environment).
Exit codes: 0 COMPLETED (or plan stored), 2 PARTIAL, 1 FAILED/CANCELLED or not
confirmed, 3 plan has conflicts, 64 unknown workflow or usage, 65 bad input,
69 Redis or the R1 backend unavailable.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

from app.exits import (
    EXIT_BY_STATUS,
    EXIT_CONFLICTS,
    EXIT_FAILED,
    EXIT_OK,
    err,
    run_guarded,
)
from app.remote_text import units_line
from app.runtime import Runtime, RuntimeSettings, default_registry, open_runtime
from engine import Registry
from engine.backoff import retrying
from engine.bounds import MAX_INPUT_BYTES
from engine.errors import InputError
from engine.models import JobStatus, JobView, Plan
from workflows.r1ctx import polls_per_activity


def add_parser(sub: argparse._SubParsersAction) -> None:
    for name, helptext in (
        ("plan", "plan a job (Phase 0) and leave it awaiting confirmation"),
        ("run", "plan, confirm and run a job, with progress on stderr"),
    ):
        p = sub.add_parser(name, help=helptext, description=__doc__.split("\n\n")[0])
        p.add_argument("workflow", help="workflow name (see `phasegrid workflows`)")
        p.add_argument("input", type=Path, help="input file: units CSV/JSON or a Cloudpath export")
        p.add_argument(
            "--option",
            "-o",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="workflow option (repeatable; dotted keys nest; JSON values allowed)",
        )
        p.add_argument("--json", action="store_true", help="print one JSON document at the end")
        p.add_argument("--backend", choices=("sim", "sim-url", "r1"), default=None)
        p.add_argument("--sim-url", default=None, help="a `phasegrid sim` server to use")
        p.add_argument(
            "--sim-profile",
            default="fast",
            choices=("instant", "fast", "demo", "realistic"),
            help="latency profile of the in-process simulator (default fast)",
        )
        p.add_argument("--sim-seed", type=int, default=7)
        p.add_argument("--title", default=None)
        p.add_argument("--max-failed-units", type=int, default=None)
        if name == "run":
            p.add_argument("--yes", "-y", action="store_true", help="confirm without asking")
            p.add_argument(
                "--confirm-text",
                default=None,
                help="for destructive plans: the text the plan asks you to type",
            )
            p.set_defaults(func=cmd_run)
        else:
            p.set_defaults(func=cmd_plan)


# -- inputs and options ---------------------------------------------------------


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """`a=1 b.c=x` -> {"a": 1, "b": {"c": "x"}}; values are JSON when they parse."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InputError("invalid --option", details=[f"--option {pair!r}: expected KEY=VALUE"])
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InputError(
                    "invalid --option", details=[f"--option {pair!r}: {part} is not a group"]
                )
        node[parts[-1]] = value
    return out


def load_input(loader: Any, path: Path) -> tuple[list[Any], dict[str, Any]]:
    """Units (and options the input implies) through the workflow's own loader."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_file() and path.stat().st_size > MAX_INPUT_BYTES:
        raise InputError(
            "input too large", details=[f"{path.name}: at most {MAX_INPUT_BYTES} bytes"]
        )
    if loader is not None:
        result = loader(path)
        if isinstance(result, tuple):
            return list(result[0]), dict(result[1])
        return list(result), {}
    from workflows.inputs import load_units  # the default for per-unit workflows

    return list(load_units(path)), {}  # type: ignore[arg-type]


def ap_serials_of(units: list[Any]) -> list[str]:
    serials: list[str] = []
    for unit in units:
        serials += list(getattr(unit, "ap_serials", None) or [])
    return serials


def settings_for(args: argparse.Namespace, units: list[Any]) -> RuntimeSettings:
    backend = args.backend or ("sim-url" if args.sim_url else "sim")
    return RuntimeSettings(
        redis_url=args.redis_url,
        backend=backend,
        sim_url=args.sim_url,
        sim_profile=args.sim_profile,
        sim_seed=args.sim_seed,
        sim_extra_serials=ap_serials_of(units),
    )


# -- output -----------------------------------------------------------------------


def plan_text(plan: Plan) -> str:
    s = plan.summary
    lines = [
        s.headline(),
        f"  job {plan.job_id}  workflow {plan.workflow}  digest {plan.digest}",
        f"  estimated {s.estimated_calls} API calls, {s.estimate_text()}",
    ]
    if s.destructive:
        lines.append(f"  DESTRUCTIVE: deletes resources; confirm by typing {s.confirm_text!r}")
    conflicts = [
        (u.unit, pid, p)
        for u in plan.units
        for pid, p in u.phases.items()
        if p.action == "conflict"
    ]
    conflicts += [
        ("(global)", pid, p) for pid, p in plan.global_phases.items() if p.action == "conflict"
    ]
    for unit, pid, p in conflicts[:50]:
        lines.append(f"  conflict  {unit:<16} {pid:<16} {p.detail or ''}")
    if len(conflicts) > 50:
        lines.append(f"  ... and {len(conflicts) - 50} more conflicts")
    return "\n".join(lines)


def progress_line(view: JobView) -> str:
    u = view.units_by_state
    calls = int(view.metrics.get("r1_calls", 0) or 0)
    limited = int(view.metrics.get("rate_limited", 0) or 0)
    eta = f" ETA {view.eta_seconds:.0f}s" if view.eta_seconds is not None else ""
    ppa = polls_per_activity(view.metrics)
    eta += f", {ppa:g} polls/activity" if ppa is not None else ""
    return (
        f"[{view.elapsed or 0:6.1f}s] {view.status.value:<9} {units_line(u, view.units_total)}"
        f" {view.progress * 100:5.1f}% cells, {calls} calls, {limited} x 429{eta}"
    )


async def summary(rt: Runtime, view: JobView, started: float) -> dict[str, Any]:
    ledger = await rt.engine.ledger(view.id)
    resources: dict[str, Counter[str]] = {"created": Counter(), "reused": Counter(),
                                          "unknown": Counter()}  # fmt: skip
    for entry in ledger:
        if entry.action in resources:
            resources[entry.action][entry.resource] += 1
    stats = rt.r1.stats.snapshot() if rt.r1 is not None and hasattr(rt.r1, "stats") else {}
    return {
        "job_id": view.id,
        "workflow": view.workflow,
        "status": view.status.value,
        "simulated": rt.simulated,
        "units_total": view.units_total,
        "units": view.units_by_state,
        "resources": {k: dict(v) for k, v in resources.items()},
        "r1_calls": int(view.metrics.get("r1_calls", 0) or stats.get("total_calls", 0)),
        "rate_limited": int(view.metrics.get("rate_limited", 0) or stats.get("rate_limited", 0)),
        "activities": int(view.metrics.get("activities", 0) or 0),
        "activity_polls": int(view.metrics.get("activity_polls", 0) or 0),
        "polls_per_activity": polls_per_activity(view.metrics),
        "limiter_wait_s": round(float(view.metrics.get("limiter_wait_s", 0) or 0), 3),
        "duration_s": round(time.monotonic() - started, 3),
        "error": view.error,
    }


# -- the commands ---------------------------------------------------------------------


def _run(args: argparse.Namespace, body: Any) -> int:
    return run_guarded(body, args)


async def _plan(
    args: argparse.Namespace, rt: Runtime, units: list[Any], options: dict[str, Any]
) -> Plan:
    if rt.simulated:
        profile = f"profile {args.sim_profile}" if rt.sim is not None else args.sim_url
        err(f"SIMULATED: R1 simulator ({profile}), not a real tenant")
    err(f"target: {rt.engine.target.describe()}")
    return await rt.engine.plan(
        args.workflow, units, options, title=args.title, max_failed_units=args.max_failed_units
    )


def _prepare(args: argparse.Namespace) -> tuple[Registry, list[Any], dict[str, Any]]:
    registry = default_registry()  # each workflow's spec names its input loader
    spec = registry.get(args.workflow)
    units, implied = load_input(spec.extra.get("load_input"), args.input)
    return registry, units, {**implied, **parse_options(args.option)}


def cmd_plan(args: argparse.Namespace) -> int:
    async def body(args: argparse.Namespace) -> int:
        registry, units, options = _prepare(args)
        settings = settings_for(args, units).model_copy(update={"worker": False})
        async with open_runtime(settings, registry_factory=lambda: registry) as rt:
            plan = await _plan(args, rt, units, options)
        if args.json:
            print(plan.model_dump_json(indent=2))
        else:
            print(plan_text(plan))
            print(f"Confirm with: phasegrid confirm {plan.job_id} {plan.digest}")
        return EXIT_CONFLICTS if plan.summary.conflicts else EXIT_OK

    return _run(args, body)


def _confirmed(args: argparse.Namespace, plan: Plan) -> str | None:
    """Ask on a TTY (or take --yes); returns the confirm text, None if declined."""
    needed = plan.summary.confirm_text if plan.summary.destructive else None
    if args.yes:
        if needed and args.confirm_text != needed:
            err(f"phasegrid: destructive plan: pass --confirm-text {needed!r} with --yes")
            return None
        return args.confirm_text or ""
    if not sys.stdin.isatty():
        err("phasegrid: not confirmed (no terminal): pass --yes to confirm")
        return None
    prompt = f"Type {needed!r} to delete: " if needed else "Apply this plan? [y/N] "
    answer = input(prompt).strip()
    if needed:
        return answer if answer == needed else None
    return "" if answer.lower() in ("y", "yes") else None


def cmd_run(args: argparse.Namespace) -> int:
    async def body(args: argparse.Namespace) -> int:
        registry, units, options = _prepare(args)
        started = time.monotonic()
        async with open_runtime(settings_for(args, units), registry_factory=lambda: registry) as rt:
            plan = await _plan(args, rt, units, options)
            err(plan_text(plan))
            if plan.summary.conflicts:
                await rt.engine.discard(plan.job_id)
                err("phasegrid: the plan has conflicts; nothing was written")
                return EXIT_CONFLICTS
            text = _confirmed(args, plan)
            if text is None:
                await rt.engine.discard(plan.job_id)
                return EXIT_FAILED
            await rt.engine.confirm(plan.job_id, plan.digest, confirm_text=text or None)
            view = await _watch(rt, plan.job_id)
            if args.json:
                print(json.dumps(await summary(rt, view, started), indent=2))
            else:
                err(progress_line(view))
                print(f"{view.status.value} job {view.id}")
            return EXIT_BY_STATUS.get(view.status.value, EXIT_FAILED)

    return _run(args, body)


async def _watch(rt: Runtime, job_id: str) -> JobView:
    tty = sys.stderr.isatty()
    last = 0.0
    wait = partial(rt.engine.wait, job_id, timeout=1.0)
    while True:
        view = await retrying(wait, what=f"watching job {job_id}")  # rides out a Redis restart
        now = time.monotonic()
        if view.status.terminal or view.status == JobStatus.PAUSED:
            if tty:
                err("")
            return view
        if now - last >= (0.5 if tty else 5.0):
            last = now
            if tty:
                print("\r" + progress_line(view), end="", file=sys.stderr, flush=True)
            else:
                err(progress_line(view))
