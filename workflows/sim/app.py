"""The Starlette app around a `Simulator`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse

from workflows.sim.config import SimConfig

if TYPE_CHECKING:
    from workflows.sim.clock import Clock
    from workflows.sim.simulator import Simulator


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {
            "errors": [
                {
                    "code": "SIM-40401",
                    "message": f"No route {request.method} {request.url.path}",
                    "reason": "Not Found",
                }
            ]
        },
        status_code=404,
    )


async def _not_allowed(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {
            "errors": [
                {
                    "code": "SIM-40500",
                    "message": "Method not allowed",
                    "reason": "Method Not Allowed",
                }
            ]
        },
        status_code=405,
    )


def build_app(sim: Simulator) -> Starlette:
    from workflows.sim.contract_guard import ContractGuard
    from workflows.sim.routes import all_routes

    app = Starlette(
        routes=all_routes(sim),
        exception_handlers={404: _not_found, 405: _not_allowed},
        middleware=[Middleware(ContractGuard, sim=sim)],
    )
    app.state.sim = sim
    return app


def create_app(config: SimConfig | None = None, *, clock: Clock | None = None) -> Starlette:
    """A ready ASGI app for `config`; its simulator is `app.state.sim`."""
    from workflows.sim.simulator import Simulator

    return Simulator(config or SimConfig(), clock=clock).app
