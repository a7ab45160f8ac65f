"""Options models of the R1 workflows (pydantic, every field described).

The TUI builds its option form from these models and MCP publishes their
JSON schema, so each field carries a `description` and a safe default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from workflows.naming import NAME_LIMITS, check_template

DEFAULT_VENUE = "Sim Venue"
PassphraseFormat = Literal["MOST_SECURED", "KEYBOARD_FRIENDLY", "NUMBERS_ONLY"]
Security = Literal["WPA2", "WPA3", "WPA2/WPA3"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NamingOptions(_Model):
    """How R1 resources are named. Templates see {unit_number}, {ssid_name}, {venue}."""

    prefix: str = Field("", max_length=16, description="Prepended to every resource name.")
    postfix: str = Field("", max_length=16, description="Appended to every resource name.")
    ap_group: str = Field("{unit_number}-APG", description="AP group name template.")
    identity_group: str = Field("{unit_number}-IDG", description="Identity group name template.")
    pool: str = Field("{unit_number}-DPSK", description="DPSK pool (service) name template.")
    network: str = Field("{unit_number}-{ssid_name}", description="Wi-Fi network name template.")
    ssid: str = Field("{ssid_name}", description="SSID template (what clients see).")
    passphrase_username: str = Field(
        "{unit_number}-{n}", description="Username of a unit's n-th DPSK passphrase."
    )

    @field_validator("ap_group", "identity_group", "pool", "network", "ssid", "passphrase_username")
    @classmethod
    def _template(cls, value: str, info: ValidationInfo) -> str:
        """Checked before anything is formatted: a width cannot make a huge name."""
        extra = 0
        if info.field_name != "ssid":  # the SSID carries no prefix/postfix
            extra = len(info.data.get("prefix", "")) + len(info.data.get("postfix", ""))
        check_template(str(info.field_name), value, extra)
        return value


class LanPortSetting(_Model):
    """One Ethernet port of an AP model."""

    port_id: str = Field(..., description='Port number on the AP ("2", "3"...; "1" is uplink).')
    type: Literal["ACCESS", "TRUNK"] = Field("ACCESS", description="Port type.")
    untag_id: int | None = Field(
        None, ge=1, le=4094, description="Untagged VLAN; default: the unit's VLAN."
    )
    vlan_members: str | None = Field(
        None, description='TRUNK members like "100,200-300"; ACCESS: the untagged VLAN.'
    )


class PassphraseOptions(_Model):
    format: PassphraseFormat = Field("KEYBOARD_FRIENDLY", description="Generated format.")
    length: int = Field(12, ge=8, le=63, description="Generated passphrase length.")
    expiration_type: str | None = Field(None, description="Pool expiration type (R1 value).")
    device_limit: int | None = Field(
        None, ge=1, le=50, description="Devices per passphrase (None: unlimited)."
    )
    per_unit: int = Field(
        1, ge=0, le=5000, description="Passphrases per unit pool (the unit's PSK is the first)."
    )
    bulk_threshold: int = Field(
        1, ge=0, description="More passphrases than this for a pool go through one CSV import."
    )


class Concurrency(_Model):
    """Upper bounds of cells running at once per phase (None: the engine's limit)."""

    ap_group: int | None = Field(None, ge=1, description="AP group creates in flight.")
    identity_group: int | None = Field(None, ge=1, description="Identity group creates.")
    dpsk_pool: int | None = Field(None, ge=1, description="DPSK pool creates.")
    network: int | None = Field(None, ge=1, description="Wi-Fi network creates.")
    bind_pool: int | None = Field(None, ge=1, description="Pool bindings.")
    passphrases: int | None = Field(None, ge=1, description="Passphrase writes.")
    activate: int | None = Field(None, ge=1, description="Network activations.")
    assign_aps: int | None = Field(None, ge=1, description="AP moves.")
    lan_ports: int | None = Field(None, ge=1, description="AP LAN port updates.")

    def of(self, phase: str) -> int | None:
        return getattr(self, phase, None)


class VenueOptions(_Model):
    venue: str = Field(DEFAULT_VENUE, min_length=1, max_length=255, description="Venue name or id.")


class UnitOptions(VenueOptions):
    """Options of the per-unit workflows (`per_unit_psk`, `per_unit_dpsk`)."""

    naming: NamingOptions = Field(default_factory=NamingOptions, description="Resource names.")
    security_type: Security = Field(
        "WPA2", description="Security when a unit's row does not name one."
    )
    default_vlan: int | None = Field(
        None, ge=1, le=4094, description="VLAN when a unit's row has none (None: VLAN 1)."
    )
    lan_ports: dict[str, list[LanPortSetting]] = Field(
        default_factory=dict,
        description='LAN port settings per AP model ("H510": [...]; "*": any model).',
    )
    passphrases: PassphraseOptions = Field(
        default_factory=PassphraseOptions, description="DPSK passphrase options."
    )
    concurrency: Concurrency = Field(default_factory=Concurrency, description="Per-phase limits.")
    max_ssids_per_ap_group: int = Field(15, ge=1, le=64, description="R1's SSID limit.")
    max_networks_per_pool: int = Field(64, ge=1, description="R1's networks-per-pool limit.")


class LanPortOptions(VenueOptions):
    """Options of `ap_lan_ports`: the same LAN-port phase, standalone."""

    default_vlan: int | None = Field(None, ge=1, le=4094, description="VLAN fallback.")
    lan_ports: dict[str, list[LanPortSetting]] = Field(
        default_factory=lambda: {"*": [LanPortSetting(port_id="2")]},
        description='LAN port settings per AP model ("*": any model).',
    )
    concurrency: Concurrency = Field(default_factory=Concurrency, description="Per-phase limits.")


class CloudpathOptions(VenueOptions):
    """Options of `cloudpath_dpsk` (the pool comes from the export's `pool`)."""

    pool_name: str | None = Field(
        None,
        min_length=1,
        max_length=NAME_LIMITS["pool"][1],
        description="DPSK pool name (default: the export's pool displayName).",
    )
    identity_group: str | None = Field(
        None,
        min_length=1,
        max_length=NAME_LIMITS["identity_group"][1],
        description="Identity group name (default: the pool name).",
    )
    passphrase_length: int = Field(12, ge=8, le=63, description="Pool passphrase length.")
    passphrase_format: PassphraseFormat = Field("KEYBOARD_FRIENDLY", description="Pool format.")
    device_limit: int | None = Field(None, ge=1, le=50, description="Pool device limit.")
    network_name: str | None = Field(
        None,
        min_length=NAME_LIMITS["network"][0],
        max_length=NAME_LIMITS["network"][1],
        description="Create (or reuse) a DPSK network of this name and bind the pool.",
    )
    ssid: str | None = Field(
        None,
        min_length=NAME_LIMITS["ssid"][0],
        max_length=NAME_LIMITS["ssid"][1],
        description="SSID of that network (default: its name).",
    )
    include_revoked: bool = Field(False, description="Also migrate REVOKED passphrases.")
    chunk_size: int = Field(1000, ge=1, le=10_000, description="Passphrases per CSV import call.")
    linger: float = Field(
        0.25, ge=0, le=10, description="Seconds a partial chunk waits for more passphrases."
    )


class CleanupItem(_Model):
    kind: str
    id: str
    name: str | None = None
    parent: dict[str, str] = Field(default_factory=dict)
    keep: str | None = Field(None, description="Why it is kept (never deleted); None: delete.")
    verify: bool = Field(
        False, description="Delete only if R1 shows the source job's tag on it (unknown origin)."
    )


class CleanupUnit(_Model):
    """What one source unit created, to delete."""

    unit: str
    items: list[CleanupItem] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return self.unit


class CleanupOptions(_Model):
    venue: str = Field(DEFAULT_VENUE, description="Venue name (typed to confirm).")
    venue_id: str | None = Field(None, description="Venue id the source job used.")
    source_job: str | None = Field(None, description="The job whose ledger is deleted.")
    passphrases: dict[str, list[str]] = Field(
        default_factory=dict, description="Pool id -> passphrase ids to delete."
    )
    passphrase_names: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Pool id -> usernames the job imported (their ids resolved at cleanup).",
    )
    pool_groups: dict[str, str] = Field(
        default_factory=dict,
        description="Pool id -> its identity group id (where its passphrases' identities are).",
    )
    global_items: list[CleanupItem] = Field(
        default_factory=list, description="Job-wide resources (deleted last)."
    )
    kept: dict[str, int] = Field(
        default_factory=dict, description="Kind -> ledger resources kept (not proven created)."
    )


class VenueCleanupOptions(VenueOptions):
    name_pattern: str = Field(
        ...,
        min_length=1,
        max_length=255,
        description='Glob of resource names to delete, e.g. "1*-*".',
    )
    kinds: list[
        Literal["passphrases", "networks", "pools", "identity_groups", "ap_groups"]
    ] = Field(
        default_factory=lambda: [
            "passphrases", "networks", "pools", "identity_groups", "ap_groups"
        ],
        description="Resource kinds to delete.",
    )  # fmt: skip
