"""`per_unit_psk`, `per_unit_dpsk` and `ap_lan_ports`: one pipeline per apartment unit.

venue (global) -> ap_group (with the unit's APs) -+-> assign_aps (moves only strays)
                                                  +---------------------------+
               -> identity_group -> dpsk_pool -+-> passphrases (one import)   |
               -> network (+ venue relation) --+-> bind_pool -------------> activate (AP group)
               -> lan_ports (override, then port settings; the unit's APs together)

The edges are R1's own dependencies only: a pool binding needs the network and
the pool, a group activation needs the network related to the venue (done in
the network phase) and the group; LAN port settings involve neither.
"""

from __future__ import annotations

from typing import Literal

from engine.context import PlanContext
from engine.spec import PhaseSpec, WorkflowSpec
from workflows.audit import audit_job
from workflows.cleanup import cleanup_from_ledger
from workflows.inputs import UnitInput
from workflows.inventory import Inventory, load_inventory
from workflows.loaders import load_unit_list, parse_unit_list
from workflows.options import LanPortOptions, UnitOptions
from workflows.phases.activate import ActivatePhase
from workflows.phases.ap_group import ApGroupPhase
from workflows.phases.aps import AssignApsPhase, LanPortsPhase, skip_lan_ports
from workflows.phases.dpsk import DpskPoolPhase, IdentityGroupPhase
from workflows.phases.network import BindPoolPhase, NetworkPhase
from workflows.phases.passphrases import PassphrasesPhase
from workflows.phases.venue import VenuePhase


async def inventory(ctx: PlanContext) -> Inventory:
    return await load_inventory(ctx.resources, ctx.options.venue)


async def venue_aps_inventory(ctx: PlanContext) -> Inventory:
    return await load_inventory(ctx.resources, ctx.options.venue, ("venues", "aps"))


def venue_phase() -> PhaseSpec:
    return PhaseSpec(
        id="venue", title="Venue", executor=VenuePhase(), per_unit=False,
        outputs=("venue_id", "venue_name"),
    )  # fmt: skip


def lan_ports_phase(depends_on: tuple[str, ...]) -> PhaseSpec:
    return PhaseSpec(
        id="lan_ports", title="LAN ports", executor=LanPortsPhase(), depends_on=depends_on,
        skip_if=skip_lan_ports, inputs=("venue_id",), critical=False,
    )  # fmt: skip


def ap_group_phase() -> PhaseSpec:
    return PhaseSpec(
        id="ap_group", title="AP group", executor=ApGroupPhase(), depends_on=("venue",),
        inputs=("venue_id",), outputs=("ap_group_id", "ap_group_with_aps"),
    )  # fmt: skip


def network_phase(kind: Literal["psk", "dpsk"]) -> PhaseSpec:
    return PhaseSpec(
        id="network", title="Network", executor=NetworkPhase(kind), depends_on=("venue",),
        inputs=("venue_id",), outputs=("network_id",),
    )  # fmt: skip


def ap_phases(network_ready: str) -> tuple[PhaseSpec, ...]:
    return (
        PhaseSpec(id="activate", title="Activate", executor=ActivatePhase(),
                  depends_on=(network_ready, "ap_group"),
                  inputs=("venue_id", "network_id", "ap_group_id")),
        PhaseSpec(id="assign_aps", title="Assign APs", executor=AssignApsPhase(),
                  depends_on=("ap_group",), inputs=("venue_id", "ap_group_id"),
                  outputs=("ap_serials",)),
        lan_ports_phase(("venue",)),
    )  # fmt: skip


def per_unit_dpsk() -> WorkflowSpec:
    phases = (
        venue_phase(),
        ap_group_phase(),
        PhaseSpec(id="identity_group", title="Identity group", executor=IdentityGroupPhase(),
                  depends_on=("venue",), outputs=("identity_group_id",)),
        PhaseSpec(id="dpsk_pool", title="DPSK pool", executor=DpskPoolPhase(),
                  depends_on=("identity_group",), inputs=("identity_group_id",),
                  outputs=("pool_id",)),
        network_phase("dpsk"),
        PhaseSpec(id="bind_pool", title="Bind pool", executor=BindPoolPhase(),
                  depends_on=("network", "dpsk_pool"), inputs=("network_id", "pool_id")),
        PhaseSpec(id="passphrases", title="Passphrases", executor=PassphrasesPhase(),
                  depends_on=("dpsk_pool",), inputs=("pool_id",), outputs=("passphrases",)),
        *ap_phases("bind_pool"),
    )  # fmt: skip
    return _unit_workflow(
        "per_unit_dpsk",
        "Per-unit DPSK",
        "Per apartment unit: AP group, identity group, DPSK pool, DPSK network, "
        "pool binding, passphrases, activation on the unit's AP group, AP assignment and "
        "optional LAN ports.",
        phases,
    )


def per_unit_psk() -> WorkflowSpec:
    phases = (
        venue_phase(),
        ap_group_phase(),
        network_phase("psk"),
        *ap_phases("network"),
    )  # fmt: skip
    return _unit_workflow(
        "per_unit_psk",
        "Per-unit PSK",
        "Per apartment unit: AP group, PSK network (the unit's passphrase), "
        "activation on the unit's AP group, AP assignment and optional LAN ports.",
        phases,
    )


def _unit_workflow(
    name: str, title: str, description: str, phases: tuple[PhaseSpec, ...]
) -> WorkflowSpec:
    """The shape both per-unit workflows share: unit inputs, options, plan, cleanup, audit."""
    return WorkflowSpec(
        name=name,
        title=title,
        description=description,
        phases=phases,
        unit_model=UnitInput,
        options_model=UnitOptions,
        inventory=inventory,
        cleanup=cleanup_from_ledger,
        audit=audit_job,
        seconds_per_call=0.5,
        parse_text=parse_unit_list,
        extra={"load_input": load_unit_list},
    )


def ap_lan_ports() -> WorkflowSpec:
    return WorkflowSpec(
        name="ap_lan_ports",
        title="AP LAN ports",
        description="Per unit: per-AP LAN port overrides (by AP model) on the unit's VLAN.",
        phases=(venue_phase(), lan_ports_phase(("venue",))),
        unit_model=UnitInput,
        options_model=LanPortOptions,
        inventory=venue_aps_inventory,
        cleanup=cleanup_from_ledger,
        audit=audit_job,
        parse_text=parse_unit_list,
        extra={"load_input": load_unit_list},
    )
