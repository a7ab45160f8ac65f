"""The workflow registry: faces find workflows here, never by importing them."""

from __future__ import annotations

from engine.errors import SpecError, WorkflowNotFound
from engine.graph import validate
from engine.spec import PhaseSpec, WorkflowSpec


class Registry:
    def __init__(self, specs: list[WorkflowSpec] | None = None) -> None:
        self._specs: dict[str, WorkflowSpec] = {}
        self._order: dict[str, list[PhaseSpec]] = {}
        for spec in specs or ():
            self.register(spec)

    def register(self, spec: WorkflowSpec) -> WorkflowSpec:
        if spec.name in self._specs:
            raise SpecError(f"workflow {spec.name!r} is already registered")
        self._order[spec.name] = validate(spec)
        self._specs[spec.name] = spec
        return spec

    def get(self, name: str) -> WorkflowSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(sorted(self._specs)) or "none"
            raise WorkflowNotFound(f"unknown workflow {name!r} (known: {known})") from None

    def ordered_phases(self, name: str) -> list[PhaseSpec]:
        self.get(name)
        return self._order[name]

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs
