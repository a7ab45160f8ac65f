"""Every R1 workflow phasegrid ships, registered in one `Registry`.

Faces reach workflows only through the engine's registry built here.

- `per_unit_dpsk`: venue (global) -> ap_group, identity_group -> dpsk_pool
  -> passphrases, network -> bind_pool -> activate -> assign_aps -> lan_ports
- `per_unit_psk`: venue -> ap_group, network -> activate -> assign_aps -> lan_ports
- `cloudpath_dpsk`: venue -> identity_group -> dpsk_pool (global) [-> network
  -> bind_pool] -> passphrase (one unit per exported passphrase, chunked CSV)
- `ap_lan_ports`: venue -> lan_ports (the unit workflows' LAN-port phase)
- `venue_cleanup`: no units; options `venue`, `name_pattern` (glob); deletes
  matching resources in reverse order; confirm by typing the venue name
- `r1_cleanup`: what `Engine.cleanup(job)` plans for any of the above (the
  job's ledger, reverse dependency order, confirm by typing the venue name)

Each spec's `extra["load_input"]` reads its input file (see `workflows.loaders`).
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
