"""The read side: job views, unit pages and unit details built from Redis only,
so any process (TUI, RPC, a second engine) sees the same truth."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from engine.codec import redact
from engine.keys import UNITS, cell_field, counts_field, split_cell_field
from engine.models import (
    CellRecord,
    JobListItem,
    JobStatus,
    JobView,
    PhaseProgress,
    PlanSummary,
    UnitDetail,
    UnitPage,
    UnitView,
)
from engine.spec import PhaseSpec
from engine.states import TERMINAL_CELL_STATES, UNIT_STATES, CellState, unit_rollup
from engine.store import Store
from engine.waves import GATE


def _f(meta: dict[str, str], key: str) -> float | None:
    v = meta.get(key)
    return float(v) if v not in (None, "") else None


def job_view(
    job_id: str,
    meta: dict[str, str],
    counts: dict[str, int],
    phases: Sequence[PhaseSpec],
    now: float,
    *,
    unserved: bool = False,
) -> JobView:
    """`unserved`: no live worker serves the job's target (said in `waiting`)."""
    units_total = int(meta.get("units_total", 0))
    progress_list: list[PhaseProgress] = []
    done = total = 0
    for p in phases:
        n = units_total if p.per_unit else 1
        c = {s.value: counts.get(counts_field(p.id, s), 0) for s in CellState}
        known = sum(c.values())
        c[CellState.PENDING.value] += max(0, n - known)
        progress_list.append(
            PhaseProgress(id=p.id, title=p.title, per_unit=p.per_unit, counts=c, total=n)
        )
        done += sum(v for s, v in c.items() if s in TERMINAL_CELL_STATES)
        total += n
    by_state = {s: counts.get(counts_field(UNITS, s), 0) for s in UNIT_STATES}
    if sum(by_state.values()) == 0:
        by_state["pending"] = units_total
    started = _f(meta, "started_at")
    finished = _f(meta, "finished_at")
    status = JobStatus(meta["status"])
    elapsed = ((finished or now) - started) if started else None
    transitions = int(meta.get("transitions", 0) or 0)
    run_transitions = transitions - int(meta.get("transitions_at_start", 0) or 0)
    throughput = run_transitions / elapsed if elapsed and elapsed > 0 and run_transitions else None
    eta = None
    if throughput and not status.terminal:
        eta = max(0.0, (total - done) / throughput)
    summary = meta.get("plan_summary")
    metrics = json.loads(meta["metrics"]) if meta.get("metrics") else {}
    if meta.get("fenced_writes"):  # batches of stale workers refused (scripts.FLUSH)
        metrics["fenced_writes"] = float(meta["fenced_writes"])
    if meta.get("lost_batches"):  # batches refused: Redis came back short of them (FLUSH)
        metrics["lost_batches"] = float(meta["lost_batches"])
    return JobView(
        id=job_id,
        workflow=meta["workflow"],
        status=status,
        title=meta.get("title") or None,
        created_at=float(meta["created_at"]),
        started_at=started,
        finished_at=finished,
        updated_at=_f(meta, "updated_at"),
        units_total=units_total,
        units_by_state=by_state,
        phases=progress_list,
        transitions_done=done,
        transitions_total=total,
        progress=(done / total) if total else 1.0,
        elapsed=elapsed,
        throughput=throughput,
        eta_seconds=eta,
        plan_digest=meta.get("plan_digest") or None,
        plan_expires_at=_f(meta, "plan_expires_at"),
        plan_summary=PlanSummary.model_validate_json(summary) if summary else None,
        error=meta.get("error") or None,
        cancel_requested=meta.get("cancel") or None,
        pause_requested=bool(meta.get("pause")) and meta.get("status") == JobStatus.RUNNING,
        wave_units=len(json.loads(meta["wave"])) if meta.get("wave") else None,
        wave_gate=meta.get("wave_state") == GATE and meta.get("status") == JobStatus.PAUSED,
        metrics=metrics,
        simulated=meta.get("simulated") == "1",
        target=meta.get("target_label") or None,
        waiting=(
            f"waiting: no live worker serves {meta.get('target_label') or 'its target'}"
            if unserved
            else None
        ),
    )


def list_item(job_id: str, meta: dict[str, str], counts: dict[str, int]) -> JobListItem:
    return JobListItem(
        id=job_id,
        workflow=meta["workflow"],
        status=JobStatus(meta["status"]),
        created_at=float(meta["created_at"]),
        units_total=int(meta.get("units_total", 0)),
        units_done=counts.get(counts_field(UNITS, "succeeded"), 0),
        units_failed=counts.get(counts_field(UNITS, "failed"), 0)
        + counts.get(counts_field(UNITS, "blocked"), 0),
        title=meta.get("title") or None,
    )


def _unit_states(
    phases: Sequence[PhaseSpec], cells: dict[str, CellRecord], row: int
) -> dict[str, CellRecord]:
    out: dict[str, CellRecord] = {}
    for p in phases:
        if p.per_unit:
            out[p.id] = cells.get(cell_field(row, p.id)) or CellRecord()
    return out


async def rows_in_state(
    store: Store, job_id: str, phases: Sequence[PhaseSpec], state: str
) -> list[int]:
    """The rows of the units whose roll-up is `state`."""
    per_unit = [p for p in phases if p.per_unit]
    cells = await store.cells(job_id)
    return [
        r
        for r in range(await store.unit_count(job_id))
        if unit_rollup(c.state.code for c in _unit_states(per_unit, cells, r).values()) == state
    ]


async def unit_page(
    store: Store,
    job_id: str,
    phases: Sequence[PhaseSpec],
    *,
    state: str | None,
    search: str | None,
    phase: str | None,
    offset: int,
    limit: int,
) -> UnitPage:
    per_unit = [p for p in phases if p.per_unit]
    filtering = bool(state or search or phase)
    if not filtering:
        keys = await store.unit_keys(job_id, offset, offset + limit - 1)
        total = await store.unit_count(job_id)
        rows = list(range(offset, offset + len(keys)))
        fields = [cell_field(r, p.id) for r in rows for p in per_unit]
        cells = await store.cells_for(job_id, fields)
        selected = list(zip(rows, keys, strict=True))
    else:
        all_keys = await store.unit_keys(job_id)
        cells = await store.cells(job_id)
        matches = []
        needle = (search or "").lower()
        for r, key in enumerate(all_keys):
            if needle and needle not in key.lower():
                continue
            states = _unit_states(per_unit, cells, r)
            if phase is not None:
                rec = states.get(phase)
                if rec is None or (state and rec.state.value != state):
                    continue
            elif state and unit_rollup(c.state.code for c in states.values()) != state:
                continue
            matches.append((r, key))
        total = len(matches)
        selected = matches[offset : offset + limit]
    values = await store.values(job_id, [str(r) for r, _ in selected])
    units = []
    for r, key in selected:
        states = _unit_states(per_unit, cells, r)
        units.append(
            UnitView(
                index=r,
                unit=key,
                state=unit_rollup(c.state.code for c in states.values()),
                phases=states,
                values=values.get(str(r), {}),
            )
        )
    return UnitPage(total=total, offset=offset, units=units)


async def unit_detail(
    store: Store,
    job_id: str,
    phases: Sequence[PhaseSpec],
    row: int,
    key: str,
    secret: set[str],
    reveal: bool,
) -> UnitDetail:
    per_unit = [p for p in phases if p.per_unit]
    fields = [cell_field(row, p.id) for p in per_unit]
    cells = await store.cells_for(job_id, fields)
    states = _unit_states(per_unit, cells, row)
    attempts = await store.attempts(job_id, fields)
    values = (await store.values(job_id, [str(row)])).get(str(row), {})
    raw_inputs = (await store.inputs(job_id, [row])).get(row)
    inputs: dict[str, Any] = json.loads(raw_inputs) if raw_inputs else {}
    if not reveal:
        inputs = redact(inputs, secret)
    plan = await store.plan(job_id)
    unit_plan = {}
    if plan is not None and row < len(plan.units):
        unit_plan = plan.units[row].phases
    return UnitDetail(
        index=row,
        unit=key,
        state=unit_rollup(c.state.code for c in states.values()),
        phases=states,
        values=values,
        attempts={split_cell_field(f)[1]: a for f, a in attempts.items()},
        plan=unit_plan,
        inputs=inputs,
    )
