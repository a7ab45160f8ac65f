"""Human-readable text for the remote CLI: tables, job lines, plan summaries."""

from __future__ import annotations

import json
import sys
from typing import Any

from engine.models import PlanSummary


def _out(text: str = "") -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _json(doc: Any) -> None:
    print(json.dumps(doc, indent=2), flush=True)


def table(rows: list[list[Any]], headers: list[str]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def units_line(units_by_state: dict[str, int], total: int) -> str:
    """'30 of 48 succeeded, 2 failed' (and cancelled ones when there are): the same
    words while running and at the end, where '0 of 48 succeeded' reads as FAILED."""
    u = units_by_state
    text = f"{u.get('succeeded', 0)} of {total} succeeded, "
    text += f"{u.get('failed', 0) + u.get('blocked', 0)} failed"
    if u.get("cancelled", 0):
        text += f", {u['cancelled']} cancelled"
    return text


def progress_line(view: dict[str, Any]) -> str:
    u = view.get("units_by_state", {})
    eta = view.get("eta_seconds")
    eta_s = f" ETA {eta:.0f}s" if eta is not None else ""
    calls = int((view.get("metrics") or {}).get("r1_calls", 0) or 0)
    return (
        f"[{(view.get('elapsed') or 0.0):6.1f}s] {view['status']:<9}"
        f" {units_line(u, view['units_total'])} {view.get('progress', 0.0) * 100:5.1f}% steps,"
        f" {calls} calls{eta_s}"
    )


def job_text(view: dict[str, Any]) -> str:
    lines = [
        f"job {view['id']}  {view['workflow']}  {view['status']}"
        + ("  (SIMULATED)" if view.get("simulated") else ""),
        progress_line(view),
    ]
    if view.get("plan_summary") and view["status"] == "AWAITING_CONFIRMATION":
        lines.append(f"plan digest {view.get('plan_digest')}")
    if view.get("target"):
        lines.append(f"target: {view['target']}")
    if view.get("waiting"):
        lines.append(view["waiting"])
    if view.get("error"):
        lines.append(f"error: {view['error']}")
    metrics = view.get("metrics") or {}
    if metrics.get("r1_calls"):
        lines.append(
            f"r1 calls {int(metrics['r1_calls'])}, 429s {int(metrics.get('rate_limited', 0) or 0)},"
            f" waited {float(metrics.get('limiter_wait_s', 0) or 0):.1f}s on the tenant rate limit"
        )
    rows = [
        [p["id"], p["total"], *(p["counts"].get(k, 0) for k in
         ("succeeded", "running", "waiting", "failed", "blocked", "skipped", "pending"))]
        for p in view.get("phases", [])
    ]  # fmt: skip
    if rows:
        lines.append(
            table(
                rows, ["phase", "total", "ok", "run", "wait", "fail", "blocked", "skip", "pending"]
            )
        )
    return "\n".join(lines)


def limits_text(limits: list[dict[str, Any]]) -> str:
    """The shared tenant rate limiters: one row per tenant and R1 service family."""
    if not limits:
        return "tenant rate limits: none used yet"
    rows = [
        [s["tenant"], s["family"], s["calls"], s["waits"], f"{s['wait_seconds']:.1f}",
         s["rate_limited"], f"{s['rate']:g} ({s['documented_rate']:g})",
         f"paused {s['paused_for']:.1f}s" if s.get("paused_for") else ""]
        for s in limits
    ]  # fmt: skip
    return "tenant rate limits\n" + table(
        rows, ["tenant", "family", "calls", "waits", "waited s", "429s", "calls/s (documented)", ""]
    )


def plan_text(plan: dict[str, Any]) -> str:
    s = plan["summary"]
    lines = [
        plan["headline"],
        f"  job {plan['job_id']}  workflow {plan['workflow']}  digest {plan['digest']}",
        f"  estimated {s['estimated_calls']} API calls, "
        + PlanSummary.model_validate(s).estimate_text(),
    ]
    if s.get("destructive"):
        lines.append(f"  DESTRUCTIVE: deletes resources; confirm by typing {s['confirm_text']!r}")
    for p in (plan.get("global_phases") or {}).values():  # a cleanup's "N kept" line
        if (p.get("data") or {}).get("kept_note"):
            lines.append(f"  KEEP: {p['data']['kept_note']}")
    for c in plan.get("conflicts", []):
        lines.append(
            f"  conflict  {c['unit'] or '(global)':<16} {c['phase']:<16} {c['detail'] or ''}"
        )
    more = plan.get("conflicts_total", 0) - len(plan.get("conflicts", []))
    if more > 0:
        lines.append(f"  ... and {more} more conflicts")
    return "\n".join(lines)
