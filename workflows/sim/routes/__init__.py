"""HTTP routes, one module per R1 resource area; `all_routes(sim)` lists them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import Route

from workflows.sim.routes import core, identity, networks, passphrases, venues

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator


def all_routes(sim: Simulator) -> list[Route]:
    return [
        *core.routes(sim),
        *venues.routes(sim),
        *networks.routes(sim),
        *identity.routes(sim),
        *passphrases.routes(sim),
    ]
