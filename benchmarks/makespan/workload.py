"""The reference workload W500 and what each of its units wants on R1.

W500: `per_unit_dpsk`, `sample_units(500, aps_per_unit=2)`, 20 passphrases per
unit, LAN port 2 overridden on every AP, venue "Sim Venue", on the simulator's
`realistic` profile with its documented rate limit (100/s per service family,
bursts of 200), one seed for every contender. What a unit wants (names, SSID,
VLAN, pool settings, passphrase rows, port settings) comes from the workflow's
own naming and option helpers, so every contender builds the same end state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from workflows.inputs import UnitInput
from workflows.inputs.samples import sample_units
from workflows.options import LanPortSetting, UnitOptions
from workflows.phases.aps import port_settings
from workflows.phases.base import security_of, unit_names, vlan_of
from workflows.phases.dpsk import pool_settings
from workflows.phases.passphrases import wanted_rows
from workflows.r1 import PassphraseRow
from workflows.sim import SimConfig

WORKFLOW = "per_unit_dpsk"
VENUE = "Sim Venue"
PROFILE = "realistic"
SEED = 7
CSV_MAX_ROWS = 5000
"""Rows one passphrase CSV import takes (dpsk_service: the simulator's MAX_BATCH)."""


@dataclass(frozen=True)
class Workload:
    units: list[UnitInput]
    options: UnitOptions
    seed: int = SEED

    @property
    def serials(self) -> list[str]:
        return [s for u in self.units for s in u.ap_serials]

    def head(self, n: int) -> Workload:
        """The first `n` units (the sequential contender runs 25)."""
        return Workload(self.units[:n], self.options, self.seed)

    def sim_config(self, time_scale: float) -> SimConfig:
        """A fresh simulator's config: the same for every contender but its clock."""
        return SimConfig(
            profile=PROFILE, seed=self.seed, aps=0, venue_name=VENUE,
            extra_ap_serials=self.serials, time_scale=time_scale,
        )  # fmt: skip


def workload(units: int = 500, passphrases: int = 20, seed: int = SEED) -> Workload:
    options = UnitOptions(
        venue=VENUE,
        passphrases={"per_unit": passphrases},
        lan_ports={"*": [LanPortSetting(port_id="2")]},
    )
    return Workload(sample_units(units, aps_per_unit=2), options, seed)


@dataclass
class UnitWants:
    """One unit's target state, and the ids a direct contender learns on the way."""

    key: str
    ap_group: str
    identity_group: str
    pool: str
    network: str
    ssid: str
    security: str
    vlan: int
    pool_settings: dict[str, Any]
    rows: list[PassphraseRow]
    serials: list[str]
    ports: list[LanPortSetting]
    ids: dict[str, str] = field(default_factory=dict)


def wants(work: Workload) -> list[UnitWants]:
    out = []
    for unit in work.units:
        ctx = SimpleNamespace(unit=unit, options=work.options)
        names = unit_names(ctx)
        out.append(
            UnitWants(
                key=unit.unit_number,
                ap_group=names["ap_group"],
                identity_group=names["identity_group"],
                pool=names["pool"],
                network=names["network"],
                ssid=names["ssid"],
                security=security_of(unit, work.options),
                vlan=vlan_of(unit, work.options),
                pool_settings=pool_settings(work.options),
                rows=wanted_rows(ctx),
                serials=list(unit.ap_serials),
                ports=port_settings(work.options, None),
            )
        )
    return out


def minimum_writes(work: Workload) -> dict[str, int]:
    """The writes W's plan needs on a fresh tenant, with bulk where the documents
    allow it, by route: per unit an AP group created with its APs, identity group,
    pool, network, its venue relation, the binding, one CSV import per CSV_MAX_ROWS
    passphrases, the AP group's activation; per AP the LAN port override and one
    write per port setting."""
    units = len(work.units)
    aps = len(work.serials)
    per_unit = work.options.passphrases.per_unit
    ports = len(port_settings(work.options, None))
    imports = -(-per_unit // CSV_MAX_ROWS) if per_unit else 0
    aps_base = "/venues/{venueId}/aps/{serialNumber}"
    return {
        "POST /venues/{venueId}/apGroups": units,
        "POST /identityGroups": units,
        "POST /identityGroups/{identityGroupId}/dpskServices": units,
        "POST /wifiNetworks": units,
        "PUT /venues/{venueId}/wifiNetworks/{networkId}": units,
        "PUT /wifiNetworks/{networkId}/dpskServices/{poolId}": units,
        "POST /dpskServices/{poolId}/passphrases/csvFiles": units * imports,
        "PUT /venues/{venueId}/wifiNetworks/{networkId}/apGroups/{apGroupId}": units,
        f"PUT {aps_base}/lanPortSpecificSettings": aps if ports else 0,
        f"PUT {aps_base}/lanPorts/{{portId}}/settings": aps * ports,
    }
