"""Wiring shared by every face: Redis (embedded unless configured), the R1
backend (the in-process simulator, a `phasegrid sim` URL, or a real tenant),
the workflow registry and the engine.

    async with open_runtime(RuntimeSettings(simulated=True)) as rt:
        plan = await rt.engine.plan("per_unit_dpsk", units, options)
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from engine import Engine, EngineConfig
from engine.aof import AofCompactor
from engine.errors import RedisUnavailable
from engine.estimate import TargetTiming
from engine.redis_client import AnyRedis
from engine.redis_client import connect as connect_redis
from engine.redis_server import EmbeddedRedis, default_data_dir
from engine.secretbox import SecretBox
from engine.targets import Target

Backend = Literal["sim", "sim-url", "r1"]


class RuntimeSettings(BaseModel):
    redis_url: str | None = None
    """Default: $PHASEGRID_REDIS_URL, else the embedded server."""
    data_dir: Path | None = None
    backend: Backend = "sim"
    """'sim': in-process simulator; 'sim-url': a `phasegrid sim` server; 'r1': a real tenant."""
    sim_url: str | None = None
    sim_profile: str = "demo"
    sim_seed: int = 7
    sim_aps: int = 48
    sim_time_scale: float = 1.0
    sim_faults: str | None = None
    sim_extra_serials: list[str] = Field(default_factory=list)
    worker: bool = True
    engine: EngineConfig = Field(default_factory=EngineConfig)

    @property
    def simulated(self) -> bool:
        return self.backend != "r1"


@dataclass
class Runtime:
    engine: Engine
    redis: AnyRedis
    redis_url: str
    settings: RuntimeSettings
    sim: Any = None
    r1: Any = None
    embedded: EmbeddedRedis | None = None

    @property
    def simulated(self) -> bool:
        return self.settings.simulated


def default_registry() -> Any:
    """The shipped R1 workflows (the composition root is the only place that names them)."""
    from workflows.catalog import build_registry

    return build_registry()


def resolve_redis_url(explicit: str | None) -> str | None:
    return explicit or os.environ.get("PHASEGRID_REDIS_URL") or None


def target_of(settings: RuntimeSettings, r1_config: Any) -> Target:
    """The identity of the backend this process writes to (never its credentials).

    The in-process simulator is reachable from this process only: its target
    carries a per-process id, so no other process ever claims its jobs.
    """
    if settings.backend == "sim":
        return Target(
            id=f"sim-local:{uuid.uuid4().hex}",
            label=f"the in-process simulator of pid {os.getpid()} on {socket.gethostname()}",
        )
    base = r1_config.api_base.rstrip("/")
    if settings.backend == "sim-url":
        return Target(id=f"sim-url:{base}", label=f"R1 simulator ({base})")
    tenant = r1_config.tenant_id
    if r1_config.msp_customer_tenant:
        tenant = f"{tenant}/{r1_config.msp_customer_tenant}"
    return Target(id=f"r1:{tenant}@{base}", label=f"R1 tenant {tenant} ({base})")


TEST_PROFILE_POLLS = {"instant": (0.005, 0.05), "fast": (0.01, 0.1)}
"""Poll pacing (seconds) for the simulator's test profiles, whose activities end in
milliseconds: R1's 1-5 s would only slow them down. `demo` and `realistic` are
paced like R1 (scaled with the time scale)."""


def sim_pacing(profile: str, time_scale: float) -> dict[str, Any]:
    """The R1Config fields that make the client keep a simulator's time."""
    pacing: dict[str, Any] = {"time_scale": time_scale}
    if profile in TEST_PROFILE_POLLS:
        lo, hi = TEST_PROFILE_POLLS[profile]
        pacing["poll_intervals"] = (lo / time_scale, hi / time_scale)  # not scaled again
    return pacing


async def _sim_info(base_url: str) -> dict[str, Any]:
    """A `phasegrid sim` server's profile and time scale (its private info route)."""
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as http:
            info = (await http.get("/_sim/info")).json()
        return info if isinstance(info, dict) else {}
    except (httpx.HTTPError, ValueError):
        return {}


def sim_limits(rate_limit: Any) -> dict[str, Any]:
    """The R1Config fields that start the client from a simulator's own limits
    (`rateLimit` of `/_sim/info`) as it would from R1's documented ones."""
    if not isinstance(rate_limit, dict) or not rate_limit.get("perSecond"):
        return {}
    families = rate_limit.get("families") or {}
    return {
        "default_rate_limit": (float(rate_limit["perSecond"]), float(rate_limit["burst"])),
        "rate_limits": {k: (float(v[0]), float(v[1])) for k, v in families.items()},
    }


R1_ACTIVITY_SECONDS = (30.0, 90.0)
"""A real tenant's activity duration, 202 to SUCCESS: an assumption (R1 documents
none), conservative from what tenants show (writes finish 30-90 s later)."""
R1_CALL_SECONDS = (0.15, 0.6)
"""A real tenant's call latency: an assumption, like the `realistic` simulator's."""


def target_timing(
    r1_config: Any, call: tuple[float, float], activity: tuple[float, float], source: str
) -> TargetTiming:
    """The target's timing for the plan's estimate, in R1 seconds: its latencies, the
    limits the client starts from (documented, or a simulator's own) and its polling."""
    from workflows.r1.services import DEFAULT_LIMIT

    rate, burst = r1_config.default_rate_limit or DEFAULT_LIMIT
    return TargetTiming(
        activity_seconds=activity, call_seconds=call, rate_per_second=rate, burst=burst,
        families=dict(r1_config.rate_limits), poll_seconds=r1_config.poll_intervals,
        source=source,
    )  # fmt: skip


def _sim_latency(info: dict[str, Any]) -> tuple[tuple[float, float], tuple[float, float]]:
    """(call, activity) seconds of a `phasegrid sim` server: from its info when it
    says them (`latency`), else its profile's."""
    from workflows.sim.config import PROFILES

    said = info.get("latency")
    profile = PROFILES.get(str(info.get("profile") or "demo"), PROFILES["demo"])
    if isinstance(said, dict):
        try:
            c, a = said["callLatency"], said["activityDuration"]
            return (float(c[0]), float(c[1])), (float(a[0]), float(a[1]))
        except (KeyError, TypeError, ValueError, IndexError):
            pass
    return profile.call_latency, profile.activity_duration


async def _r1_client(
    settings: RuntimeSettings, stack: AsyncExitStack, redis: AnyRedis, prefix: str
) -> tuple[Any, Any, TargetTiming]:
    """The R1 client (and the simulator behind it, when simulated), and the target's
    timing for the plan's estimate. Its rate
    limiter is the tenant's, shared through Redis with every worker that calls the
    same tenant; it starts from the documented limits per service family (a
    simulator's own), and keeps the simulator's time scale (its budget and poll
    pacing are in R1 seconds)."""
    from workflows.r1 import R1Client, R1Config
    from workflows.r1.transport import shared_limiter
    from workflows.sim.ratelimit import rate_limit_info

    def client(cfg: R1Config, tenant: str, ttl: float = 24 * 3600.0, **kw: Any) -> Any:
        limiter = shared_limiter(cfg, redis, tenant, prefix=prefix, ttl=ttl)
        return R1Client(cfg, rate_limiter=limiter, **kw)

    if settings.backend == "sim":
        from workflows.sim import SimConfig, Simulator

        cfg = SimConfig(
            profile=settings.sim_profile,  # type: ignore[arg-type]
            seed=settings.sim_seed,
            aps=settings.sim_aps,
            time_scale=settings.sim_time_scale,
            extra_ap_serials=settings.sim_extra_serials,
            **({"faults": settings.sim_faults} if settings.sim_faults else {}),
        )
        sim = Simulator(cfg)
        r1_cfg = R1Config(
            client_id=cfg.client_id,
            client_secret=cfg.client_secret,
            tenant_id=cfg.tenant_id,
            base_url="http://sim",
            **sim_pacing(cfg.profile, cfg.time_scale),
            **sim_limits(rate_limit_info(cfg)),
        )
        tenant = f"sim:{cfg.tenant_id}@pid{os.getpid()}-{uuid.uuid4().hex[:8]}"  # ours alone
        r1 = client(r1_cfg, tenant, 3600.0, transport=httpx.ASGITransport(app=sim.app))
        lat = cfg.latency
        timing = target_timing(
            r1_cfg, lat.call_latency, lat.activity_duration, f"simulator profile {cfg.profile}"
        )
        return await stack.enter_async_context(r1), sim, timing
    if settings.backend == "sim-url":
        base_url = settings.sim_url or "http://127.0.0.1:8799"
        info = await _sim_info(base_url)
        pacing = sim_pacing(str(info.get("profile") or "demo"), float(info.get("timeScale") or 1))
        r1_cfg = R1Config(
            client_id="sim-client",
            client_secret="sim-secret",
            tenant_id=str(info.get("tenantId") or "sim-tenant"),  # `phasegrid sim --tenant-id`
            base_url=base_url,
            **pacing,
            **sim_limits(info.get("rateLimit")),
        )
        tenant = f"sim:{r1_cfg.tenant_id}"  # the simulator's tenant
        call, activity = _sim_latency(info)
        timing = target_timing(r1_cfg, call, activity, f"simulator at {base_url}")
        return await stack.enter_async_context(client(r1_cfg, tenant)), None, timing
    r1_cfg = R1Config.from_env()
    tenant = f"r1:{r1_cfg.tenant_id}"
    if r1_cfg.msp_customer_tenant:
        tenant += f"/{r1_cfg.msp_customer_tenant}"  # R1 limits the customer tenant called
    timing = target_timing(
        r1_cfg, R1_CALL_SECONDS, R1_ACTIVITY_SECONDS, "R1's documented limits; assumed latencies"
    )
    return await stack.enter_async_context(client(r1_cfg, tenant)), None, timing


async def _aof_compactor(redis: Redis, stack: AsyncExitStack) -> AofCompactor:
    """Purged secrets leave the embedded Redis's AOF too (rewritten after purges)."""
    compactor = AofCompactor(redis)
    tg = await stack.enter_async_context(anyio.create_task_group())
    tg.start_soon(compactor.run)
    stack.callback(tg.cancel_scope.cancel)
    stack.push_async_callback(compactor.close)  # runs first: a pending rewrite still happens
    return compactor


@asynccontextmanager
async def open_runtime(
    settings: RuntimeSettings | None = None,
    *,
    registry_factory: Callable[[], Any] | None = None,
) -> AsyncIterator[Runtime]:
    settings = settings or RuntimeSettings()
    async with AsyncExitStack() as stack:
        url = resolve_redis_url(settings.redis_url)
        data_dir = settings.data_dir or default_data_dir()
        secrets = SecretBox.load(data_dir)  # $PHASEGRID_SECRET_KEY or <data_dir>/secret.key
        embedded = None
        if url is None:
            embedded = EmbeddedRedis(data_dir)
            url = embedded.start()
            stack.callback(embedded.stop)
        try:  # a RedisCluster client when the server is a cluster node
            redis = await connect_redis(url)
        except Exception as exc:
            raise RedisUnavailable(f"cannot reach Redis at {url}: {exc}") from None

        async def close_redis() -> None:  # even when cancelled (SIGTERM): then the embedded
            with anyio.CancelScope(shield=True):  # server sees no client left and stops
                await redis.aclose()

        stack.push_async_callback(close_redis)
        try:
            await redis.ping()
        except Exception as exc:
            raise RedisUnavailable(f"cannot reach Redis at {url}: {exc}") from None
        compactor = await _aof_compactor(redis, stack) if embedded is not None else None
        r1, sim, timing = await _r1_client(settings, stack, redis, settings.engine.prefix)
        if registry_factory is None:
            registry_factory = default_registry
        config = settings.engine.model_copy(
            update={
                "simulated": settings.simulated,
                "time_scale": r1.config.time_scale,  # the client's: a simulator's own
                "target_timing": settings.engine.target_timing or timing,
            }
        )
        engine = Engine(
            redis,
            registry_factory(),
            config,
            resources={"r1": r1, "sim": sim},
            target=target_of(settings, r1.config),
            secrets=secrets,
            on_inputs_purged=compactor.request if compactor else None,
        )
        async with engine.running(worker=settings.worker):
            yield Runtime(
                engine=engine, redis=redis, redis_url=url, settings=settings, sim=sim, r1=r1,
                embedded=embedded,
            )  # fmt: skip
