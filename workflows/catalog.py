"""Every R1 workflow phasegrid ships, registered in one `Registry`.

Faces reach workflows only through the engine's registry built here.
"""

from __future__ import annotations

from engine import Registry


def build_registry() -> Registry:
    from workflows.cleanup import r1_cleanup
    from workflows.specs.cloudpath import cloudpath_dpsk
    from workflows.specs.per_unit import ap_lan_ports, per_unit_dpsk, per_unit_psk
    from workflows.specs.venue_cleanup import venue_cleanup

    registry = Registry()
    for spec in (
        per_unit_psk(),
        per_unit_dpsk(),
        cloudpath_dpsk(),
        ap_lan_ports(),
        venue_cleanup(),
        r1_cleanup(),
    ):
        registry.register(spec)
    return registry
