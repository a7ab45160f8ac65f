"""Workflow definitions that could leave a job unable to finish are refused."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from engine import PhaseSpec, Registry, WorkflowSpec
from engine.errors import SpecError, WorkflowNotFound
from tests.engine.helpers import Opts, Recorder, Step, Unit


def phase(pid: str, *deps: str, **kw) -> PhaseSpec:
    return PhaseSpec(id=pid, title=pid, executor=Step(Recorder(), pid), depends_on=deps, **kw)


def spec(*phases: PhaseSpec, name: str = "w") -> WorkflowSpec:
    return WorkflowSpec(name=name, title=name, phases=phases, unit_model=Unit, options_model=Opts)


def problems(*phases: PhaseSpec) -> list[str]:
    with pytest.raises(SpecError) as err:
        Registry([spec(*phases)])
    return err.value.details


def test_cycle_names_the_phases():
    assert problems(phase("a", "c"), phase("b", "a"), phase("c", "b"), phase("d")) == [
        "dependency cycle among phases: a, b, c"
    ]


def test_unknown_and_duplicate_and_self_dependencies():
    details = problems(phase("a", "zz"), phase("a"), phase("b", "b"))
    assert "duplicate phase ids: a" in details
    assert "phase 'a' depends on unknown phase(s): zz" in details
    assert "phase 'b' depends on itself" in details


def test_inputs_must_be_provided_upstream():
    details = problems(
        phase("a", outputs=("group_id",)),
        phase("b", inputs=("group_id", "pool_id")),  # not downstream of a, and pool_id from nowhere
    )
    assert details == [
        "phase 'b' needs group_id, pool_id, which no upstream phase, option or unit field provides"
    ]
    # from an ancestor, a unit field or an option, it is fine
    Registry(
        [
            spec(
                phase("a", outputs=("group_id",)),
                phase("b", "a", inputs=("group_id", "name", "tag")),
            )
        ]
    )


def test_global_phase_cannot_read_unit_fields_or_per_unit_outputs():
    details = problems(
        phase("a", outputs=("group_id",)),
        phase("g", "a", per_unit=False, inputs=("group_id", "name")),
    )
    assert details == [
        "phase 'g' needs group_id, name, which no upstream global phase or option "
        "(a global phase runs once per job) provides"
    ]


def test_bad_concurrency_and_missing_executor():
    class NoRun(BaseModel):
        pass

    details = problems(phase("a", concurrency=0), PhaseSpec(id="b", title="b", executor=NoRun()))
    assert "phase 'a' has concurrency 0; it must be >= 1" in details
    assert "phase 'b' has no executor with an async run(ctx)" in details


def test_registry_lookup_and_duplicates():
    reg = Registry([spec(phase("a"))])
    with pytest.raises(SpecError):
        reg.register(spec(phase("a")))
    with pytest.raises(WorkflowNotFound) as err:
        reg.get("nope")
    assert "known: w" in str(err.value)
