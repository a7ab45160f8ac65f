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

    prefix: str = Field(
        "",
        max_length=16,
        description="Text (0-16 characters) put before every resource name except the SSID, "
        'e.g. "bldgA-"; default "" (none).',
    )
    postfix: str = Field(
        "",
        max_length=16,
        description="Text (0-16 characters) put after every resource name except the SSID; "
        'default "" (none).',
    )
    ap_group: str = Field(
        "{unit_number}-APG",
        description="Template of each unit's AP group name (R1: 2-64 characters); fields "
        '{unit_number}, {ssid_name}, {venue}. Default "{unit_number}-APG" ("101-APG").',
    )
    identity_group: str = Field(
        "{unit_number}-IDG",
        description="Template of each unit's identity group name (DPSK only; 1-255 "
        'characters); default "{unit_number}-IDG".',
    )
    pool: str = Field(
        "{unit_number}-DPSK",
        description="Template of each unit's DPSK pool (service) name (DPSK only; 1-255 "
        'characters); default "{unit_number}-DPSK".',
    )
    network: str = Field(
        "{unit_number}-{ssid_name}",
        description="Template of each unit's Wi-Fi network name (R1: 2-32 characters); "
        'default "{unit_number}-{ssid_name}" ("101-Unit-101").',
    )
    ssid: str = Field(
        "{ssid_name}",
        description="Template of the SSID clients see (2-32 characters; no prefix/postfix); "
        'default "{ssid_name}": the unit\'s ssid_name as given.',
    )
    passphrase_username: str = Field(
        "{unit_number}-{n}",
        description="Template of the username of a unit's n-th DPSK passphrase (1-255 "
        'characters; {n} counts from 1); default "{unit_number}-{n}" ("101-1").',
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

    port_id: str = Field(
        ...,
        description='The LAN port number on the AP, as text: "2", "3"... ("1" is usually the '
        "uplink; leave it alone). Required.",
    )
    type: Literal["ACCESS", "TRUNK"] = Field(
        "ACCESS",
        description='"ACCESS" (one untagged VLAN) or "TRUNK" (tagged VLANs in vlan_members); '
        'default "ACCESS".',
    )
    untag_id: int | None = Field(
        None,
        ge=1,
        le=4094,
        description="Untagged VLAN id 1-4094; default null: the unit's VLAN (default_vlan).",
    )
    vlan_members: str | None = Field(
        None,
        description="TRUNK: the tagged VLANs, comma-separated ids and ranges, e.g. "
        '"100,200-300"; ACCESS: leave null (the untagged VLAN).',
    )


class PassphraseOptions(_Model):
    """DPSK passphrases of each unit's pool (per_unit_dpsk)."""

    format: PassphraseFormat = Field(
        "KEYBOARD_FRIENDLY",
        description='Character set of generated passphrases: "MOST_SECURED", '
        '"KEYBOARD_FRIENDLY" or "NUMBERS_ONLY"; default "KEYBOARD_FRIENDLY".',
    )
    length: int = Field(
        12, ge=8, le=63, description="Length of generated passphrases, 8-63; default 12."
    )
    expiration_type: str | None = Field(
        None,
        description="The pools' passphrase expiration type, as R1 names it (R1 DPSK "
        "expirationType); default null: never expire.",
    )
    device_limit: int | None = Field(
        None,
        ge=1,
        le=50,
        description="Devices allowed per passphrase, 1-50; default null: unlimited.",
    )
    per_unit: int = Field(
        1,
        ge=0,
        le=5000,
        description="Passphrases per unit pool, 0-5000; default 1. The first one is the "
        "unit's ssid_password when given (generated otherwise); the others are generated.",
    )
    bulk_threshold: int = Field(
        1,
        ge=0,
        description="A pool with more passphrases than this gets them in one CSV import "
        "(one call) instead of one call each; default 1.",
    )


class Concurrency(_Model):
    """Upper bounds of cells running at once per phase (None: the engine's limit)."""

    ap_group: int | None = Field(
        None, ge=1, description="AP group creates at once (>= 1); null: the engine's limit."
    )
    identity_group: int | None = Field(
        None, ge=1, description="Identity group creates at once (>= 1); null: engine's limit."
    )
    dpsk_pool: int | None = Field(
        None, ge=1, description="DPSK pool creates at once (>= 1); null: the engine's limit."
    )
    network: int | None = Field(
        None, ge=1, description="Wi-Fi network creates at once (>= 1); null: engine's limit."
    )
    bind_pool: int | None = Field(
        None, ge=1, description="Pool-to-network bindings at once (>= 1); null: engine's limit."
    )
    passphrases: int | None = Field(
        None, ge=1, description="Passphrase writes at once (>= 1); null: the engine's limit."
    )
    activate: int | None = Field(
        None, ge=1, description="Network activations at once (>= 1); null: the engine's limit."
    )
    assign_aps: int | None = Field(
        None, ge=1, description="AP moves at once (>= 1); null: the engine's limit."
    )
    lan_ports: int | None = Field(
        None, ge=1, description="AP LAN port updates at once (>= 1); null: the engine's limit."
    )

    def of(self, phase: str) -> int | None:
        return getattr(self, phase, None)


class VenueOptions(_Model):
    venue: str = Field(
        DEFAULT_VENUE,
        min_length=1,
        max_length=255,
        description="The R1 venue to work in: its name (exact) or id, 1-255 characters; "
        f'default "{DEFAULT_VENUE}" (the simulator\'s venue). The venue must exist.',
    )


class UnitOptions(VenueOptions):
    """Options of the per-unit workflows (`per_unit_psk`, `per_unit_dpsk`)."""

    naming: NamingOptions = Field(
        default_factory=NamingOptions,
        description="How the R1 resources are named (templates, prefix, postfix); the "
        "defaults give 101-APG, 101-IDG, 101-DPSK, 101-<ssid_name>.",
    )
    security_type: Security = Field(
        "WPA2",
        description='Security for a unit that names none: "WPA2", "WPA3" or "WPA2/WPA3"; '
        'default "WPA2".',
    )
    default_vlan: int | None = Field(
        None,
        ge=1,
        le=4094,
        description="VLAN id 1-4094 for units without a default_vlan; default null: VLAN 1.",
    )
    lan_ports: dict[str, list[LanPortSetting]] = Field(
        default_factory=dict,
        description='LAN port settings per AP model: {"H510": [{"port_id": "2"}], "*": [...]} '
        '("*": any other model); default {}: LAN ports are left alone.',
    )
    passphrases: PassphraseOptions = Field(
        default_factory=PassphraseOptions,
        description="DPSK passphrases per unit pool (per_unit_dpsk only).",
    )
    concurrency: Concurrency = Field(
        default_factory=Concurrency,
        description="Per-phase caps on cells running at once; default: the engine's limits.",
    )
    max_ssids_per_ap_group: int = Field(
        15,
        ge=1,
        le=64,
        description="SSIDs R1 allows per AP group, 1-64 (a plan conflicts above it); default 15.",
    )
    max_networks_per_pool: int = Field(
        64, ge=1, description="Networks R1 allows per DPSK pool (>= 1); default 64."
    )


class LanPortOptions(VenueOptions):
    """Options of `ap_lan_ports`: the same LAN-port phase, standalone."""

    default_vlan: int | None = Field(
        None,
        ge=1,
        le=4094,
        description="VLAN id 1-4094 for units without a default_vlan; default null: VLAN 1.",
    )
    lan_ports: dict[str, list[LanPortSetting]] = Field(
        default_factory=lambda: {"*": [LanPortSetting(port_id="2")]},
        description='LAN port settings per AP model: {"H510": [{"port_id": "2"}], "*": [...]} '
        '("*": any other model); default: port 2 of every AP, ACCESS on the unit\'s VLAN.',
    )
    concurrency: Concurrency = Field(
        default_factory=Concurrency,
        description="Per-phase caps on cells running at once; default: the engine's limits.",
    )


class CloudpathOptions(VenueOptions):
    """Options of `cloudpath_dpsk` (the pool comes from the export's `pool`)."""

    pool_name: str | None = Field(
        None,
        min_length=1,
        max_length=NAME_LIMITS["pool"][1],
        description="The R1 DPSK pool's name (1-255 characters); default null: the "
        "export's pool displayName (required when the export has no pool).",
    )
    identity_group: str | None = Field(
        None,
        min_length=1,
        max_length=NAME_LIMITS["identity_group"][1],
        description="The R1 identity group's name (1-255 characters); default null: the pool name.",
    )
    passphrase_length: int = Field(
        12,
        ge=8,
        le=63,
        description="The pool's generated passphrase length, 8-63, when the export's pool "
        "has no phraseDefaultLength; default 12.",
    )
    passphrase_format: PassphraseFormat = Field(
        "KEYBOARD_FRIENDLY",
        description='The pool\'s passphrase character set: "MOST_SECURED", '
        '"KEYBOARD_FRIENDLY" or "NUMBERS_ONLY"; default "KEYBOARD_FRIENDLY".',
    )
    device_limit: int | None = Field(
        None,
        ge=1,
        le=50,
        description="Devices per passphrase for the pool, 1-50; default null: the export's "
        "limit when it enforces one, else unlimited.",
    )
    network_name: str | None = Field(
        None,
        min_length=NAME_LIMITS["network"][0],
        max_length=NAME_LIMITS["network"][1],
        description="Also create (or reuse) a DPSK Wi-Fi network of this name (2-32 "
        "characters) and bind the pool to it; default null: no network.",
    )
    ssid: str | None = Field(
        None,
        min_length=NAME_LIMITS["ssid"][0],
        max_length=NAME_LIMITS["ssid"][1],
        description="SSID of that network (2-32 characters); default null: the network name.",
    )
    include_revoked: bool = Field(
        False, description="Also migrate passphrases whose status is REVOKED; default false."
    )
    chunk_size: int = Field(
        1000,
        ge=1,
        le=10_000,
        description="Passphrases per CSV import call, 1-10000; default 1000.",
    )
    linger: float = Field(
        0.25,
        ge=0,
        le=10,
        description="Seconds (0-10) a partial chunk waits for more passphrases before it is "
        "imported; default 0.25.",
    )


class CleanupItem(_Model):
    """One R1 resource a cleanup deletes (or keeps), as the source job's ledger names it."""

    kind: str = Field(
        description='Resource kind as the ledger records it, e.g. "network", "dpsk_pool", '
        '"identity_group", "ap_group", "activation", "binding", "ap".'
    )
    id: str = Field(description="The resource's R1 id.")
    name: str | None = Field(None, description="Its name when known (shown in plans).")
    parent: dict[str, str] = Field(
        default_factory=dict,
        description='Ids of what it lives under, e.g. {"venue_id": "<id>"}; default {}.',
    )
    keep: str | None = Field(None, description="Why it is kept (never deleted); None: delete.")
    verify: bool = Field(
        False, description="Delete only if R1 shows the source job's tag on it (unknown origin)."
    )


class CleanupUnit(_Model):
    """What one source unit created, to delete."""

    unit: str = Field(description="The source job's unit key (e.g. its unit number).")
    items: list[CleanupItem] = Field(
        default_factory=list,
        description="What that unit created; deleted in reverse dependency order.",
    )

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
        description="Glob (*, ?, [..]) matched against resource names: what matches is "
        'deleted, e.g. "1*-*" (1-255 characters; required).',
    )
    kinds: list[
        Literal["passphrases", "networks", "pools", "identity_groups", "ap_groups"]
    ] = Field(
        default_factory=lambda: [
            "passphrases", "networks", "pools", "identity_groups", "ap_groups"
        ],
        description='Resource kinds to delete, any of "passphrases", "networks", "pools", '
        '"identity_groups", "ap_groups"; default all five.',
    )  # fmt: skip
