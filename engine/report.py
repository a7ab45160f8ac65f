"""The per-unit results report: unit, state, the resources it has, its first error.

Computed here once so every face (CLI, JSON-RPC, MCP, TUI export) prints the same
rows; JSON pages it, CSV is the whole job. No secret can appear: resources are
named by kind and name (usernames, never passphrases), values are not included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from pydantic import BaseModel, Field

from engine.keys import cell_field
from engine.models import CellRecord, LedgerEntry
from engine.spec import PhaseSpec
from engine.states import CellState, unit_rollup
from engine.store import Store

CSV_COLUMNS = ("unit", "state", "resources", "first_error")


class UnitResult(BaseModel):
    unit: str = Field(description="The unit key.")
    state: str = Field(
        description="Roll-up: succeeded, failed, blocked, cancelled, running, pending."
    )
    resources: list[str] = Field(
        default_factory=list,
        description="What the job created or reused for this unit, as 'kind:name' (id when "
        "unnamed), in the order recorded. Deleted resources are left out.",
    )
    first_error: str | None = Field(
        None, description="'phase: message' of the first phase (in phase order) that failed."
    )


class ResultsReport(BaseModel):
    job_id: str
    workflow: str
    status: str
    total: int = Field(description="Units in the job.")
    offset: int = 0
    units: list[UnitResult]


def resource_label(entry: LedgerEntry) -> str:
    return f"{entry.resource}:{entry.name or entry.id}"


def first_error(phases: Sequence[PhaseSpec], cells: dict[str, CellRecord], row: int) -> str | None:
    for p in phases:
        rec = cells.get(cell_field(row, p.id))
        if rec is not None and rec.state == CellState.FAILED:
            return f"{p.id}: {rec.error or 'failed'}"
    return None


async def build(
    store: Store,
    job_id: str,
    phases: Sequence[PhaseSpec],
    meta: dict[str, str],
    *,
    offset: int = 0,
    limit: int | None = None,
) -> ResultsReport:
    """One row per unit (the page `offset`..`offset+limit`, or all when `limit` is None)."""
    per_unit = [p for p in phases if p.per_unit]
    keys = await store.unit_keys(job_id)
    cells = await store.cells(job_id)
    by_unit: dict[str, list[str]] = {}
    for entry in await store.ledger(job_id):
        if entry.unit is None or entry.action == "deleted":
            continue
        labels = by_unit.setdefault(entry.unit, [])
        label = resource_label(entry)
        if label not in labels:
            labels.append(label)
    stop = len(keys) if limit is None else offset + limit
    rows = []
    for r in range(offset, min(stop, len(keys))):
        codes = ((cells.get(cell_field(r, p.id)) or CellRecord()).state.code for p in per_unit)
        rows.append(
            UnitResult(
                unit=keys[r],
                state=unit_rollup(codes),
                resources=by_unit.get(keys[r], []),
                first_error=first_error(per_unit, cells, r),
            )
        )
    return ResultsReport(
        job_id=job_id, workflow=meta.get("workflow", ""), status=meta.get("status", ""),
        total=len(keys), offset=offset, units=rows,
    )  # fmt: skip


def to_csv(report: ResultsReport) -> str:
    """The rows as CSV (resources joined with ';'), header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for u in report.units:
        writer.writerow([u.unit, u.state, ";".join(u.resources), u.first_error or ""])
    return out.getvalue()
