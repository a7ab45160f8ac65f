"""Synthetic workflows: the fallback demo (when the real R1 workflows are not
registered), the TUI tests and the scale benchmark.

They look like an R1 rollout (a global venue phase, then eight per-unit
phases) but do no I/O: each cell takes a seeded random delay, and a
`SynthControl` lets tests hold cells on gates, inject failures and pace the
benchmark. Nothing here reaches into the engine: these are plain executors
registered in a `Registry`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import anyio
from pydantic import BaseModel, Field, SecretStr

from engine import PhaseSpec, Registry, RetryPolicy, WorkflowSpec
from engine.errors import PermanentError, TransientError
from engine.models import AuditItem, AuditReport, CleanupRequest, CleanupSource, PhasePlan

DEMO_WORKFLOW = "synthetic_dpsk"
CLEANUP_WORKFLOW = "synthetic_cleanup"
VENUE = "Sim Venue"

# (id, title, depends_on, per_unit, resource)
PHASES: tuple[tuple[str, str, tuple[str, ...], bool, str], ...] = (
    ("venue", "Venue check", (), False, "venue"),
    ("ap_group", "AP group", ("venue",), True, "apGroup"),
    ("identity_group", "Identity group", ("venue",), True, "identityGroup"),
    ("dpsk_pool", "DPSK pool", ("identity_group",), True, "dpskService"),
    ("network", "Wi-Fi network", ("dpsk_pool",), True, "wifiNetwork"),
    ("passphrases", "Passphrases", ("dpsk_pool",), True, "passphrase"),
    ("activate", "Activate network", ("network", "ap_group"), True, "activation"),
    ("assign_aps", "Assign APs", ("activate",), True, "apAssignment"),
    ("lan_ports", "LAN ports", ("assign_aps",), True, "lanPortSetting"),
)


class SynthUnit(BaseModel):
    unit_number: str
    ssid_name: str = ""
    passphrase: SecretStr = SecretStr("")
    vlan: int = 100
    fail: list[str] = Field(default_factory=list)
    """Phases that fail permanently for this unit (test hook)."""
    conflict: list[str] = Field(default_factory=list)
    """Phases the plan reports as in conflict for this unit (test hook)."""

    @property
    def key(self) -> str:
        return self.unit_number


class SynthOptions(BaseModel):
    venue: str = Field(VENUE, description="Venue the units live in")
    vlan_base: int = Field(100, ge=1, le=4094, description="First VLAN id")
    lan_ports: bool = Field(True, description="Configure AP LAN ports")


class CleanupUnit(BaseModel):
    unit_number: str

    @property
    def key(self) -> str:
        return self.unit_number


class CleanupOptions(BaseModel):
    venue: str = VENUE
    source_job: str = ""


class SynthControl:
    """Knobs shared by every executor of one registry."""

    def __init__(
        self,
        *,
        delay: tuple[float, float] = (0.0, 0.0),
        seed: int = 7,
        per_second: float | None = None,
    ) -> None:
        self.delay = delay
        self.rng = random.Random(seed)
        self.gates: dict[tuple[str | None, str], anyio.Event] = {}
        self.hold_phases: set[str] = set()
        """Cells of these phases wait on `release()`."""
        self.fail_once: set[tuple[str | None, str]] = set()
        """(unit, phase) pairs whose next attempt fails permanently."""
        self.transient_once: set[tuple[str | None, str]] = set()
        self.per_second = per_second
        self._release = anyio.Event()
        self._next_slot = 0.0
        self.started = 0
        self.calls = 0

    def release(self) -> None:
        self._release.set()
        self._release = anyio.Event()
        self.hold_phases.clear()

    async def pace(self) -> None:
        """Hand out at most `per_second` cell completions per second."""
        if not self.per_second:
            return
        now = anyio.current_time()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.per_second
        if slot > now:
            await anyio.sleep(slot - now)


class SynthStep:
    def __init__(self, control: SynthControl, phase: str, resource: str) -> None:
        self.control = control
        self.phase = phase
        self.resource = resource

    async def plan(self, ctx: Any) -> PhasePlan:
        unit = ctx.unit
        if unit is None:
            return PhasePlan(action="reuse", resource=self.resource, name=ctx.options.venue)
        name = f"{unit.unit_number}-{self.phase}"
        if self.phase in unit.conflict:
            return PhasePlan(
                action="conflict",
                resource=self.resource,
                name=name,
                detail=f"{self.resource} {name!r} exists with other settings",
            )
        if self.phase == "lan_ports" and not ctx.options.lan_ports:
            return PhasePlan(action="skip", resource=self.resource, name=name)
        index = ctx.unit_index or 0
        if self.phase == "ap_group" and index % 6 == 0:
            return PhasePlan(action="reuse", resource=self.resource, name=name, calls=1)
        return PhasePlan(action="create", resource=self.resource, name=name, calls=2)

    async def run(self, ctx: Any) -> dict[str, Any]:
        c = self.control
        c.started += 1
        key = (ctx.unit_key, self.phase)
        if self.phase in c.hold_phases:
            await c._release.wait()
        lo, hi = c.delay
        if hi > 0:
            await anyio.sleep(c.rng.uniform(lo, hi))
        await c.pace()
        c.calls += 2
        ctx.incr("api_calls", 2)
        if key in c.fail_once:
            c.fail_once.discard(key)
            raise PermanentError(
                f"{self.resource} rejected: name {ctx.unit_key}-{self.phase} is already in use"
            )
        if key in c.transient_once:
            c.transient_once.discard(key)
            ctx.rate_limited(0.0)
            raise TransientError("429 Too Many Requests")
        unit = ctx.unit
        if unit is not None and self.phase in unit.fail:
            raise PermanentError(f"{self.resource} rejected: invalid configuration")
        ident = f"{self.resource}-{ctx.unit_key or 'g'}"
        if unit is not None:
            ctx.record(self.resource, ident, name=f"{ctx.unit_key}-{self.phase}")
        return {f"{self.phase}_id": ident}


class CleanupStep:
    def __init__(self, control: SynthControl, phase: str) -> None:
        self.control = control
        self.phase = phase

    async def plan(self, ctx: Any) -> PhasePlan:
        if ctx.unit is None:
            return PhasePlan(action="run", resource="venue", calls=1)
        return PhasePlan(action="delete", resource="wifiNetwork", name=ctx.unit_key, calls=1)

    async def run(self, ctx: Any) -> dict[str, Any]:
        lo, hi = self.control.delay
        if hi > 0:
            await anyio.sleep(self.control.rng.uniform(lo, hi))
        return {}


def _cleanup_factory(source: CleanupSource) -> CleanupRequest:
    return CleanupRequest(
        workflow=CLEANUP_WORKFLOW,
        units=[{"unit_number": k} for k in source.unit_keys],
        options={"venue": source.options.get("venue", VENUE), "source_job": source.job_id},
        title=f"Cleanup of {source.job_id}",
    )


async def _audit(ctx: Any) -> AuditReport:
    items = [
        AuditItem(unit=e.unit, resource=e.resource, id=e.id, name=e.name, status="present")
        for e in ctx.ledger
    ]
    return AuditReport(
        job_id=ctx.job_id, workflow=ctx.workflow, checked_at=ctx.clock(), items=items
    )


def synthetic_specs(
    control: SynthControl,
    *,
    name: str = DEMO_WORKFLOW,
    all_per_unit: bool = False,
    retry: RetryPolicy | None = None,
) -> list[WorkflowSpec]:
    retry = retry or RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)
    phases = []
    for pid, title, deps, per_unit, resource in PHASES:
        phases.append(
            PhaseSpec(
                id=pid,
                title=title,
                executor=SynthStep(control, pid, resource),
                depends_on=deps,
                per_unit=per_unit or all_per_unit,
                retry=retry,
                critical=pid != "lan_ports",
                skip_if=(lambda o, _u: not o.lan_ports) if pid == "lan_ports" else None,
            )
        )
    main = WorkflowSpec(
        name=name,
        title="Per-unit DPSK (synthetic)",
        description="A synthetic 9-phase DPSK rollout: no I/O, seeded delays.",
        phases=tuple(phases),
        unit_model=SynthUnit,
        options_model=SynthOptions,
        secret_fields=("passphrase",),
        cleanup=_cleanup_factory,
        audit=_audit,
        seconds_per_call=0.05,
    )
    cleanup = WorkflowSpec(
        name=CLEANUP_WORKFLOW,
        title="Cleanup (synthetic)",
        description="Deletes what a synthetic job created.",
        phases=(
            PhaseSpec(
                id="delete_units",
                title="Delete unit resources",
                executor=CleanupStep(control, "delete_units"),
                destructive=True,
            ),
            PhaseSpec(
                id="delete_venue",
                title="Venue leftovers",
                per_unit=False,
                executor=CleanupStep(control, "delete_venue"),
                depends_on=("delete_units",),
                destructive=True,
            ),
        ),
        unit_model=CleanupUnit,
        options_model=CleanupOptions,
        destructive=True,
        confirm_text=lambda o: o.venue,
        seconds_per_call=0.05,
    )
    return [main, cleanup]


def synthetic_registry_factory(
    control: SynthControl | None = None, **kw: Any
) -> Callable[[], Registry]:
    control = control or SynthControl()

    def factory() -> Registry:
        return Registry(synthetic_specs(control, **kw))

    return factory


def synthetic_units(n: int, *, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return [
        {
            "unit_number": str(101 + i),
            "ssid_name": f"Unit-{101 + i}",
            "passphrase": "".join(rng.choice(alphabet) for _ in range(12)),
            "vlan": 100 + i,
        }
        for i in range(n)
    ]
