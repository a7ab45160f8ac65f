"""An in-process RUCKUS One (R1) simulator: the same HTTP API as the cloud,
with a real resource model, asynchronous activities, R1's constraints and
limits, seeded latency and injectable faults.

    from workflows.sim import SimConfig, Simulator, create_app, ManualClock
    sim = Simulator(SimConfig(seed=7), clock=ManualClock())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app),
                               base_url="http://sim")

Private routes (no auth, never rate-limited/faulted/counted): `GET /_sim/stats`,
`GET /_sim/info`, `GET /_sim/activities` (the activity log: use case, route, logical
subject, created, duration, done, in R1 seconds), `POST /_sim/reset`,
`GET|PUT|DELETE /_sim/faults`, `POST /_sim/tokens/revoke`, `POST /_sim/save`.
See `config.py` (knobs, `--faults` syntax), `query.py` (both paging styles),
`routes/passphrases.py` (CSV format).
"""

from workflows.sim.app import create_app
from workflows.sim.clock import Clock, ManualClock, MonotonicClock
from workflows.sim.config import PROFILES, FaultConfig, FaultRule, LatencyProfile, SimConfig
from workflows.sim.simulator import Simulator

__all__ = [
    "PROFILES",
    "Clock",
    "FaultConfig",
    "FaultRule",
    "LatencyProfile",
    "ManualClock",
    "MonotonicClock",
    "SimConfig",
    "Simulator",
    "create_app",
]
