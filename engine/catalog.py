"""What the engine tells faces about its workflows: names, graphs, schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from engine.graph import levels
from engine.registry import Registry


class PhaseNode(BaseModel):
    id: str
    title: str
    depends_on: list[str]
    per_unit: bool
    critical: bool
    level: int
    concurrency: int | None
    destructive: bool


class WorkflowInfo(BaseModel):
    name: str
    title: str
    description: str
    destructive: bool
    phases: int


class WorkflowDescription(WorkflowInfo):
    nodes: list[PhaseNode]
    edges: list[tuple[str, str]]
    levels: list[list[str]]
    options_schema: dict[str, Any] | None
    unit_schema: dict[str, Any] | None


def list_workflows(registry: Registry) -> list[WorkflowInfo]:
    out = []
    for name in registry.names():
        spec = registry.get(name)
        out.append(
            WorkflowInfo(
                name=spec.name,
                title=spec.title,
                description=spec.description,
                destructive=spec.destructive,
                phases=len(spec.phases),
            )
        )
    return out


def describe(registry: Registry, workflow: str) -> WorkflowDescription:
    """The phase graph (nodes by level, edges) and the input/option schemas."""
    spec = registry.get(workflow)
    lv = levels(spec.phases)
    by_level: dict[int, list[str]] = {}
    for p in registry.ordered_phases(workflow):
        by_level.setdefault(lv[p.id], []).append(p.id)
    return WorkflowDescription(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        destructive=spec.destructive,
        phases=len(spec.phases),
        nodes=[
            PhaseNode(
                id=p.id,
                title=p.title,
                depends_on=list(p.depends_on),
                per_unit=p.per_unit,
                critical=p.critical,
                level=lv[p.id],
                concurrency=p.concurrency,
                destructive=p.destructive,
            )
            for p in registry.ordered_phases(workflow)
        ],
        edges=[(d, p.id) for p in spec.phases for d in p.depends_on],
        levels=[by_level[k] for k in sorted(by_level)],
        options_schema=spec.options_model.model_json_schema() if spec.options_model else None,
        unit_schema=spec.unit_model.model_json_schema() if spec.unit_model else None,
    )
