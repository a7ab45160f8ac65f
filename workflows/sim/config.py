"""Simulator configuration: latency profiles, fault knobs and the top-level `SimConfig`.

Everything a run depends on is here and is plain data (pydantic), so a config
can come from CLI flags, a JSON file or a test, and two runs with the same
config and the same request sequence behave identically.
"""

from __future__ import annotations

import json
import os
import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ProfileName = Literal["instant", "fast", "demo", "realistic"]
ContractMode = Literal["off", "record", "enforce"]
CONTRACT_ENV = "PHASEGRID_SIM_CONTRACT"


def _contract_mode_from_env() -> ContractMode:
    value = os.environ.get(CONTRACT_ENV, "record")
    if value not in ("off", "record", "enforce"):
        raise ValueError(f"{CONTRACT_ENV}={value!r}: expected off, record or enforce")
    return value  # type: ignore[return-value]


FaultAction = Literal[
    "fail_permanent",  # the activity FAILs with a validation error
    "fail_transient",  # the activity FAILs with "Internal error, please retry"
    "http_500",
    "http_502",
    "http_503",
    "http_429",
    "hang",  # sleep `hang_seconds` before answering 504
    "drop",  # close the connection mid-response
    "lost",  # apply the write, then answer 502 (the client never sees the 202)
]


class LatencyProfile(BaseModel):
    """Durations in seconds, before `SimConfig.time_scale` is applied."""

    call_latency: tuple[float, float] = (0.0, 0.0)
    activity_duration: tuple[float, float] = (0.0, 0.0)
    per_item_seconds: float = 0.0
    """Extra activity time per item of a bulk write (CSV rows, passphrase batches)."""
    pending_fraction: float = 0.2
    """Share of an activity's duration reported as PENDING before INPROGRESS."""
    activity_404_seconds: float = 0.0
    """For this long after its 202 an activity answers 404 (R1 does this briefly)."""


PROFILES: dict[str, LatencyProfile] = {
    "instant": LatencyProfile(),
    "fast": LatencyProfile(
        call_latency=(0.0, 0.002),
        activity_duration=(0.01, 0.05),
        per_item_seconds=0.00001,
        activity_404_seconds=0.005,
    ),
    "demo": LatencyProfile(
        call_latency=(0.005, 0.03),
        activity_duration=(0.5, 3.0),
        per_item_seconds=0.0005,
        activity_404_seconds=0.2,
    ),
    "realistic": LatencyProfile(
        call_latency=(0.15, 0.6),
        activity_duration=(30.0, 90.0),
        per_item_seconds=0.01,
        activity_404_seconds=1.5,
    ),
}


class FaultRule(BaseModel):
    """A targeted fault: applies to requests matching every given criterion.

    `route` is a regex searched in the templated route ("POST /identityGroups");
    `match` is a regex searched in the request path plus raw body text (so
    `"unit-07"` hits a create whose name contains it). `times` bounds how often
    the rule fires (None: until removed).
    """

    model_config = ConfigDict(extra="forbid")

    action: FaultAction
    route: str | None = None
    match: str | None = None
    times: int | None = None
    message: str | None = None

    @field_validator("route", "match")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex {value!r}: {exc}") from None
        return value


class FaultConfig(BaseModel):
    """Random fault rates (0..1, drawn from the seeded fault RNG) plus targeted rules."""

    model_config = ConfigDict(extra="forbid")

    http_5xx_rate: float = Field(0.0, ge=0, le=1)
    hang_rate: float = Field(0.0, ge=0, le=1)
    hang_seconds: float = Field(10.0, ge=0, le=120)
    """How long a hang lasts (real seconds, not scaled: it must outlast client timeouts)."""
    drop_rate: float = Field(0.0, ge=0, le=1)
    lost_response_rate: float = Field(0.0, ge=0, le=1)
    """The write is accepted, but the client gets a 502 instead of the 202."""
    activity_fail_transient_rate: float = Field(0.0, ge=0, le=1)
    activity_fail_permanent_rate: float = Field(0.0, ge=0, le=1)
    include_auth: bool = False
    """Whether random HTTP faults also hit the token endpoint."""
    rules: list[FaultRule] = Field(default_factory=list)

    @classmethod
    def parse(cls, spec: str | None) -> FaultConfig:
        """Parse the CLI `--faults` syntax: JSON, or `key=value` pairs.

        Short keys: `5xx`, `hang`, `hang_seconds`, `drop`, `lost`, `fail`
        (transient activity FAIL), `permfail` (permanent activity FAIL);
        full field names work too. Example: `5xx=0.02,fail=0.01,drop=0.005`.
        """
        if not spec or not spec.strip():
            return cls()
        spec = spec.strip()
        if spec.startswith("{"):
            return cls.model_validate(json.loads(spec))
        aliases = {
            "5xx": "http_5xx_rate",
            "hang": "hang_rate",
            "drop": "drop_rate",
            "lost": "lost_response_rate",
            "fail": "activity_fail_transient_rate",
            "permfail": "activity_fail_permanent_rate",
        }
        values: dict[str, object] = {}
        for part in spec.replace(";", ",").split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"fault spec item {part!r} is not key=value")
            key = aliases.get(key.strip(), key.strip())
            values[key] = value.strip()
        return cls.model_validate(values)


class SimConfig(BaseModel):
    """How one simulated R1 tenant behaves."""

    model_config = ConfigDict(extra="forbid")

    profile: ProfileName = "instant"
    seed: int = 0
    aps: int = Field(48, ge=0, le=100_000)
    tenant_id: str = "sim-tenant"
    client_id: str = "sim-client"
    client_secret: str = "sim-secret"
    token_ttl: float = Field(7200.0, gt=0)
    """Seconds a token lives (sim clock, not scaled by time_scale)."""
    rate_limit_per_second: float = Field(100.0, gt=0)
    """Calls returned to each bucket (tenant x service family) per second: R1's
    documented figure for Wi-Fi and Venue, our default for the others."""
    rate_limit_burst: int | None = Field(None, ge=1)
    """Bucket capacity; default 200 (documented), or one minute's worth of calls
    with `rate_limit_per_minute`."""
    rate_limit_families: dict[str, tuple[float, int]] = Field(default_factory=dict)
    """Per service family (`workflows.r1.services`): (calls per second, burst)."""
    rate_limit_per_minute: int | None = Field(None, ge=1)
    """The older model: ONE bucket per tenant for every service, this many per minute."""
    retry_after_header: bool = True
    time_scale: float = Field(1.0, gt=0)
    faults: FaultConfig = Field(default_factory=FaultConfig)
    venue_name: str = "Sim Venue"
    state_file: str | None = None
    snapshot_file: str | None = None
    extra_ap_serials: list[str] = Field(default_factory=list)
    activity_404_seconds: float | None = None
    """Override of the profile's 404 window (seconds, already scaled)."""
    call_latency: tuple[float, float] | None = None
    """Override of the profile's per-call latency (seconds, before `time_scale`)."""
    activity_duration: tuple[float, float] | None = None
    """Override of the profile's activity duration (seconds, before `time_scale`)."""
    activity_404_polls: int = Field(0, ge=0)
    """The first N lookups of each activity answer 404 (deterministic, clock-free)."""
    max_ssids_per_ap_group: int = 15
    max_networks_per_pool: int = 64
    contract: ContractMode = Field(default_factory=lambda: _contract_mode_from_env())
    """How calls are held to R1's documents: see `workflows.sim.contract_guard`."""
    record_file: str | None = None
    """Append every request (secrets masked) to this JSON-lines file."""

    @field_validator("faults", mode="before")
    @classmethod
    def _fault_spec(cls, value: object) -> object:
        return FaultConfig.parse(value) if isinstance(value, str) else value

    @field_validator("extra_ap_serials")
    @classmethod
    def _strip_serials(cls, value: list[str]) -> list[str]:
        return [s.strip() for s in value if s.strip()]

    @field_validator("call_latency", "activity_duration")
    @classmethod
    def _span(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not 0 <= value[0] <= value[1]:
            raise ValueError(f"expected 0 <= low <= high seconds, got {value[0]:g},{value[1]:g}")
        return value

    @cached_property
    def latency(self) -> LatencyProfile:
        """The profile, with this config's overrides (read on every call: built once)."""
        overrides = {"call_latency": self.call_latency, "activity_duration": self.activity_duration}
        update = {k: v for k, v in overrides.items() if v is not None}
        return PROFILES[self.profile].model_copy(update=update)
