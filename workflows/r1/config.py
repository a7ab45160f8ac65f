"""R1 connection settings: credentials, region, timeouts, pool size, retry policy.

Secrets are `SecretStr` so the config's repr, str and JSON dumps never show
them; only the auth module reads the real value, and only to send it.
"""

from __future__ import annotations

import json
import os
import random
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from workflows.r1.errors import R1ConfigError

REGION_URLS: dict[str, str] = {
    "NA": "https://api.ruckus.cloud",
    "EU": "https://api.eu.ruckus.cloud",
    "ASIA": "https://api.asia.ruckus.cloud",
}


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    ASIA = "ASIA"


class Timeouts(BaseModel):
    """Explicit httpx timeouts (seconds): never rely on library defaults."""

    model_config = ConfigDict(frozen=True)

    connect: float = 10.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 30.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class RetryPolicy(BaseModel):
    """Bounded attempts, exponential backoff with full jitter, Retry-After honoured.

    `attempts` counts every try of one call including the first. Which failures
    the transport retries at all is in `R1Transport`'s docstring (inside an engine
    phase: 429s, connect errors, and idempotent calls up to `in_phase_attempts`).
    With a Retry-After the delay is that value (capped by `max_retry_after`) plus up to `base` of
    jitter, so a crowd told "come back in 2 s" does not return in lockstep.
    """

    model_config = ConfigDict(frozen=True)

    attempts: int = Field(default=6, ge=1)
    base: float = Field(default=0.5, ge=0)
    cap: float = Field(default=30.0, ge=0)
    max_retry_after: float = Field(default=120.0, ge=0)
    in_phase_attempts: int = Field(default=3, ge=1)
    """Tries of an idempotent call, inside an engine phase, after ambiguous failures
    (5xx, timeouts, drops): safe to repeat, and cheaper than re-running the phase."""
    retry_unsafe_writes: bool = False
    """Also retry creates (POST) after a 5xx, timeout or dropped connection. Off by
    default: the first try may have been applied, and a blind re-send then FAILs
    with "Name must be unique"; the engine re-runs the phase instead, whose
    find-then-create sees the resource. 429s and connect errors are always
    retried (the server never processed those)."""

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Sleep before try number `attempt + 1` (attempt is 1-based)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after) + rng.uniform(0, self.base)
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return rng.uniform(0, ceiling)


class R1Config(BaseModel):
    """Everything needed to talk to one R1 tenant (or one MSP customer)."""

    model_config = ConfigDict(frozen=True, use_enum_values=False)

    client_id: str
    client_secret: SecretStr
    tenant_id: str
    msp_customer_tenant: str | None = None
    """Customer tenant for MSP delegation: sent as `x-rks-tenantid`."""
    region: Region = Region.NA
    base_url: str | None = None
    """Overrides `region` (e.g. the simulator)."""
    timeouts: Timeouts = Field(default_factory=Timeouts)
    max_connections: int = Field(default=64, ge=1)
    """HTTP connections for the phases' calls (the poller has its own). At R1's call
    latency (0.15-0.6 s) 20 would cap writes near 50/s, half the documented 100/s per
    service family; 64 matches the engine's default in-flight limit, which bounds
    the calls a job has in flight anyway."""
    max_keepalive_connections: int = Field(default=64, ge=0)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    refresh_margin: float = Field(default=300.0, ge=0)
    """Refresh the token this many seconds before expiry (half-life if the TTL is short)."""
    rate_limits: dict[str, tuple[float, float]] = Field(default_factory=dict)
    """Per service family (`workflows.r1.services`): (calls per R1 second, burst).
    Unlisted families start from `default_rate_limit`."""
    default_rate_limit: tuple[float, float] | None = None
    """(calls per R1 second, burst) of unlisted families; None: the documented 100/s
    with bursts of 200 (a simulator says its own, see `app.runtime`)."""
    poll_intervals: tuple[float, float] = (1.0, 5.0)
    """Activity polling: first pause and the cap it backs off to (R1 seconds)."""
    time_scale: float = Field(default=1.0, gt=0)
    """Our seconds per R1 second: a simulator run with `--time-scale 0.01` is R1 at
    100x, so the rate budget is 100x and the poll intervals 1/100 (a scaled
    rehearsal then measures R1's limits, not our budget)."""

    def scaled(self, r1_seconds: float) -> float:
        return r1_seconds * self.time_scale

    def family_limits(self) -> tuple[dict[str, tuple[float, float]], tuple[float, float]]:
        """(per-family, default) limits in our seconds: (calls per second, burst)."""
        from workflows.r1.services import DEFAULT_LIMIT

        def ours(limit: tuple[float, float]) -> tuple[float, float]:
            return (limit[0] / self.time_scale, limit[1])

        default = self.default_rate_limit or DEFAULT_LIMIT
        return {k: ours(v) for k, v in self.rate_limits.items()}, ours(default)

    @field_validator("region", mode="before")
    @classmethod
    def _upper_region(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

    @property
    def api_base(self) -> str:
        return self.base_url or REGION_URLS[Region(self.region).value]

    # -- loading -----------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> R1Config:
        """Read `R1_CLIENT_ID`, `R1_CLIENT_SECRET`, `R1_TENANT_ID`, `R1_REGION`,
        `R1_BASE_URL`, `R1_MSP_TENANT_ID`; keyword overrides win."""
        env = os.environ if env is None else env
        data: dict[str, Any] = {}
        for key, var in (
            ("client_id", "R1_CLIENT_ID"),
            ("client_secret", "R1_CLIENT_SECRET"),
            ("tenant_id", "R1_TENANT_ID"),
            ("region", "R1_REGION"),
            ("base_url", "R1_BASE_URL"),
            ("msp_customer_tenant", "R1_MSP_TENANT_ID"),
        ):
            if env.get(var):
                data[key] = env[var]
        data.update(overrides)
        return cls.load(data)

    @classmethod
    def from_file(cls, path: str | Path) -> R1Config:
        """Load a JSON or TOML file (by suffix; TOML may nest it under `[r1]`)."""
        path = Path(path)
        raw = path.read_bytes()
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
        if isinstance(data, dict) and isinstance(data.get("r1"), dict):
            data = data["r1"]
        return cls.load(data)

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> R1Config:
        """Validate without echoing inputs: pydantic's error text would show the secret."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}"
                for err in exc.errors(include_input=False, include_url=False)
            ]
            raise R1ConfigError("invalid R1 configuration", details=problems) from None
