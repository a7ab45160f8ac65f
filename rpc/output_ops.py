"""The outputs of a job over both remote faces: its ledger (what it created) and its
per-unit results report (JSON or CSV). Spliced into `rpc.service.OPERATIONS`.

No secret is ever returned: ledger entries name resources (passphrases by username),
and any data field whose name suggests a secret is dropped before it leaves.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from engine import Engine
from engine.models import LedgerEntry
from engine.report import ResultsReport, UnitResult, to_csv
from rpc.operation import Operation
from rpc.schemas import JobId, Offset, Params

NO_PASSPHRASES = (
    "Passphrases (and PSKs) are never returned here, nor by any other tool: the operator "
    "exports them on the server's machine with `phasegrid handout JOB -o FILE` (a 0600 "
    "file), as long as the job has not been purged."
)
SECRET_KEY = re.compile(r"pass|secret|psk|password|key|token", re.IGNORECASE)


class LedgerParams(Params):
    job_id: JobId
    unit: str | None = Field(None, max_length=200, description="Only this unit's entries.")
    resource: str | None = Field(
        None, max_length=100, description="Only this resource kind (e.g. network, passphrase)."
    )
    offset: Offset = 0
    limit: int = Field(100, ge=1, le=1000, description="At most this many entries.")


class LedgerItem(BaseModel):
    seq: int = Field(description="Order of recording; cleanup deletes in reverse.")
    unit: str | None = Field(description="Unit key; null for a global phase's resource.")
    phase: str
    resource: str = Field(description="Resource kind (network, dpsk_pool, passphrase...).")
    id: str = Field(description="The resource's id on the target.")
    name: str | None = None
    parent: dict[str, str] = Field(default_factory=dict)
    action: str = Field(description="created, reused (existed), deleted or unknown.")
    at: float = Field(description="When it was recorded (Unix seconds).")
    data: dict[str, Any] = Field(default_factory=dict, description="Non-secret details.")


class LedgerPage(BaseModel):
    job_id: str
    total: int = Field(description="Entries matching the filters.")
    offset: int
    entries: list[LedgerItem]


class ResultsParams(Params):
    job_id: JobId
    format: Literal["json", "csv"] = Field(
        "json", description="json: a page of rows; csv: every unit as CSV text in `csv`."
    )
    offset: Offset = Field(0, description="json only: units to skip.")
    limit: int = Field(500, ge=1, le=5000, description="json only: at most this many units.")


class ResultsResult(BaseModel):
    job_id: str
    workflow: str
    status: str
    format: Literal["json", "csv"]
    total: int = Field(description="Units in the job.")
    offset: int
    units: list[UnitResult] = Field(
        default_factory=list, description="json: the page of rows (empty for csv)."
    )
    csv: str | None = Field(
        None, description="csv: header unit,state,resources,first_error then one row per unit."
    )


def _scrub(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not SECRET_KEY.search(k)}


def ledger_item(entry: LedgerEntry) -> LedgerItem:
    return LedgerItem(**{**entry.model_dump(), "data": _scrub(entry.data)})


async def _ledger(engine: Engine, p: LedgerParams) -> LedgerPage:
    entries = [
        e
        for e in await engine.ledger(p.job_id)
        if (p.unit is None or e.unit == p.unit) and (p.resource is None or e.resource == p.resource)
    ]
    page = entries[p.offset : p.offset + p.limit]
    return LedgerPage(
        job_id=p.job_id, total=len(entries), offset=p.offset, entries=[ledger_item(e) for e in page]
    )


def results_result(report: ResultsReport, fmt: Literal["json", "csv"]) -> ResultsResult:
    base = report.model_dump(exclude={"units"})
    if fmt == "csv":
        return ResultsResult(**base, format="csv", csv=to_csv(report))
    return ResultsResult(**base, format="json", units=report.units)


async def _results(engine: Engine, p: ResultsParams) -> ResultsResult:
    if p.format == "csv":
        return results_result(await engine.results(p.job_id), "csv")
    return results_result(await engine.results(p.job_id, offset=p.offset, limit=p.limit), "json")


OUTPUT_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "jobs.ledger", "get_ledger", "Get a job's ledger",
        "What a job created or reused on the target (its resource ledger), in recording "
        "order: kind, id, name, unit, phase, action. Filter by unit or resource kind; page "
        f"with offset/limit. {NO_PASSPHRASES}",
        LedgerParams, LedgerPage, _ledger, read_only=True, idempotent=True,
    ),
    Operation(
        "jobs.results", "get_results", "Get a job's per-unit results",
        "Per unit: its state, the resources it has ('kind:name') and its first error. "
        "format json returns a page of rows (offset/limit); csv returns every unit as CSV "
        f"text (the same rows as `phasegrid results JOB --format csv`). {NO_PASSPHRASES}",
        ResultsParams, ResultsResult, _results, read_only=True, idempotent=True,
    ),
)  # fmt: skip
