"""DAG checks and layout for workflow specs (pure functions, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from engine.errors import SpecError
from engine.spec import PhaseSpec, WorkflowSpec


def topo_order(phases: Iterable[PhaseSpec]) -> list[PhaseSpec]:
    """Kahn's algorithm, stable in declaration order; raises on a cycle."""
    phases = list(phases)
    by_id = {p.id: p for p in phases}
    indegree = {p.id: len(set(p.depends_on)) for p in phases}
    children: dict[str, list[str]] = {p.id: [] for p in phases}
    for p in phases:
        for d in set(p.depends_on):
            children[d].append(p.id)
    ready = [p.id for p in phases if indegree[p.id] == 0]
    order: list[PhaseSpec] = []
    while ready:
        pid = ready.pop(0)
        order.append(by_id[pid])
        for c in children[pid]:
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if len(order) != len(phases):
        stuck = sorted(pid for pid, n in indegree.items() if n > 0)
        raise SpecError("dependency cycle among phases: " + ", ".join(stuck))
    return order


def levels(phases: Iterable[PhaseSpec]) -> dict[str, int]:
    """Longest-path level of each phase (0 for phases with no dependencies)."""
    level: dict[str, int] = {}
    for p in topo_order(phases):
        level[p.id] = 1 + max((level[d] for d in p.depends_on), default=-1)
    return level


def ancestors(phases: Iterable[PhaseSpec]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for p in topo_order(phases):
        acc: set[str] = set()
        for d in p.depends_on:
            acc.add(d)
            acc |= result[d]
        result[p.id] = acc
    return result


def _model_fields(model: type[BaseModel] | None) -> set[str]:
    return set(model.model_fields) if model is not None else set()


def validate(spec: WorkflowSpec) -> list[PhaseSpec]:
    """Check everything that could leave a job unable to finish; return topo order."""
    problems: list[str] = []
    if not spec.name or not spec.name.replace("_", "").isalnum():
        problems.append(f"workflow name {spec.name!r} must be alphanumeric/underscore")
    if not spec.phases:
        problems.append("a workflow needs at least one phase")
    ids = [p.id for p in spec.phases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        problems.append("duplicate phase ids: " + ", ".join(dupes))
    known = set(ids)
    for p in spec.phases:
        if not p.id or any(c in p.id for c in "|: "):
            problems.append(f"phase id {p.id!r} must be non-empty without '|', ':' or spaces")
        unknown = [d for d in p.depends_on if d not in known]
        if unknown:
            problems.append(f"phase {p.id!r} depends on unknown phase(s): {', '.join(unknown)}")
        if p.id in p.depends_on:
            problems.append(f"phase {p.id!r} depends on itself")
        if p.concurrency is not None and p.concurrency < 1:
            problems.append(f"phase {p.id!r} has concurrency {p.concurrency}; it must be >= 1")
        if not callable(getattr(p.executor, "run", None)):
            problems.append(f"phase {p.id!r} has no executor with an async run(ctx)")
    if problems:
        raise SpecError(f"workflow {spec.name!r} is invalid", details=problems)
    try:
        order = topo_order(spec.phases)
    except SpecError as exc:
        raise SpecError(f"workflow {spec.name!r} is invalid", details=[exc.message]) from None

    anc = ancestors(spec.phases)
    by_id = {p.id: p for p in spec.phases}
    unit_fields = _model_fields(spec.unit_model)
    option_fields = _model_fields(spec.options_model)
    for p in order:
        if p.per_unit:
            available = unit_fields | option_fields
            sources = anc[p.id]
        else:  # runs once per job: only options and other global phases feed it
            available = set(option_fields)
            sources = {a for a in anc[p.id] if not by_id[a].per_unit}
        for a in sources:
            available |= set(by_id[a].outputs)
        missing = [name for name in p.inputs if name not in available]
        if missing:
            where = (
                "upstream phase, option or unit field"
                if p.per_unit
                else ("upstream global phase or option (a global phase runs once per job)")
            )
            problems.append(f"phase {p.id!r} needs {', '.join(missing)}, which no {where} provides")
    if problems:
        raise SpecError(f"workflow {spec.name!r} is invalid", details=problems)
    return order
