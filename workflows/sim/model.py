"""The simulated tenant's resources, as plain slotted dataclasses.

`to_json()` gives the shape R1 returns; `from_json()` reads the same shape
back (state files and tenant snapshots use it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

AP_MODELS: dict[str, int] = {"R550": 2, "R650": 2, "R750": 2, "T750": 2, "H510": 5, "H550": 5}
"""AP model -> number of Ethernet ports; port "1" is the uplink."""


@dataclass(slots=True)
class Venue:
    id: str
    name: str
    address: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "address": self.address,
            "description": self.description,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Venue:
        return cls(d["id"], d["name"], d.get("address") or {}, d.get("description") or "")


@dataclass(slots=True)
class ApGroup:
    id: str
    venueId: str
    name: str
    description: str = ""
    isDefault: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "venueId": self.venueId,
            "name": self.name,
            "description": self.description,
            "isDefault": self.isDefault,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ApGroup:
        return cls(
            d["id"],
            d["venueId"],
            d.get("name", ""),
            d.get("description") or "",
            bool(d.get("isDefault")),
        )


@dataclass(slots=True)
class LanPort:
    portId: str
    type: str = "ACCESS"
    untagId: int = 1
    vlanMembers: str = "1"
    enabled: bool = True
    isUplink: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "portId": self.portId,
            "type": self.type,
            "untagId": self.untagId,
            "vlanMembers": self.vlanMembers,
            "enabled": self.enabled,
            "isUplink": self.isUplink,
        }

    @classmethod
    def default(cls, port_id: str) -> LanPort:
        if port_id == "1":
            return cls(port_id, "TRUNK", 1, "1-4094", True, True)
        return cls(port_id)


@dataclass(slots=True)
class Ap:
    serialNumber: str
    name: str
    model: str
    venueId: str
    apGroupId: str
    useVenueSettings: bool = True
    lanPorts: dict[str, LanPort] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "serialNumber": self.serialNumber,
            "name": self.name,
            "model": self.model,
            "venueId": self.venueId,
            "apGroupId": self.apGroupId,
            "useVenueSettings": self.useVenueSettings,
            "lanPorts": [p.to_json() for p in self.lanPorts.values()],
        }

    @classmethod
    def new(cls, serial: str, name: str, model: str, venue_id: str, group_id: str) -> Ap:
        ports = {str(i): LanPort.default(str(i)) for i in range(1, AP_MODELS.get(model, 2) + 1)}
        return cls(serial, name, model, venue_id, group_id, True, ports)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Ap:
        ap = cls.new(
            d["serialNumber"],
            d.get("name") or d["serialNumber"],
            d.get("model") or "R650",
            d["venueId"],
            d.get("apGroupId") or "",
        )
        ap.useVenueSettings = bool(d.get("useVenueSettings", True))
        for p in d.get("lanPorts") or []:
            ap.lanPorts[str(p["portId"])] = LanPort(
                str(p["portId"]),
                p.get("type", "ACCESS"),
                int(p.get("untagId", 1)),
                str(p.get("vlanMembers", "1")),
                bool(p.get("enabled", True)),
                bool(p.get("isUplink", False)),
            )
        return ap


@dataclass(slots=True)
class Network:
    id: str
    name: str
    type: str
    wlan: dict[str, Any]
    description: str = ""
    dpskServiceId: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "wlan": self.wlan,
            "description": self.description,
            "dpskServiceId": self.dpskServiceId,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Network:
        return cls(
            d["id"],
            d["name"],
            d.get("type", "psk"),
            d.get("wlan") or {},
            d.get("description") or "",
            d.get("dpskServiceId"),
        )


@dataclass(slots=True)
class Activation:
    """A network on a venue: on all its AP groups, or on the listed ones (each
    activated by its own call), with optional per-group VLAN/radio settings."""

    venueId: str
    networkId: str
    isAllApGroups: bool
    apGroupIds: list[str] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "venueId": self.venueId,
            "networkId": self.networkId,
            "isAllApGroups": self.isAllApGroups,
            "apGroups": [{"apGroupId": g, **self.settings.get(g, {})} for g in self.apGroupIds],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Activation:
        raw = d.get("apGroups") or []
        groups = [g["apGroupId"] if isinstance(g, dict) else g for g in raw]
        settings = {
            g["apGroupId"]: {k: v for k, v in g.items() if k in ("vlanId", "radioTypes")}
            for g in raw
            if isinstance(g, dict) and ({"vlanId", "radioTypes"} & set(g))
        }
        return cls(
            d["venueId"], d["networkId"], bool(d.get("isAllApGroups", True)), groups, settings
        )


def _present(d: dict[str, Any]) -> dict[str, Any]:
    """Drop unset fields: R1's DTOs leave them out rather than answer null."""
    return {k: v for k, v in d.items() if v is not None}


@dataclass(slots=True)
class IdentityGroup:
    id: str
    name: str
    description: str = ""
    dpskPoolId: str | None = None
    identityIds: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        """identity_management IdentityGroup (identityCount is a document field)."""
        return _present({
            "id": self.id,
            "name": self.name,
            "description": self.description or None,
            "dpskPoolId": self.dpskPoolId,
            "identityCount": len(self.identityIds),
        })  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> IdentityGroup:
        return cls(d["id"], d["name"], d.get("description") or "", d.get("dpskPoolId"))


@dataclass(slots=True)
class Identity:
    """R1 keeps one identity per DPSK passphrase, in the pool's identity group;
    `dpskGuid` names the passphrase it stands for."""

    id: str
    groupId: str
    name: str
    dpskGuid: str | None = None
    vlan: int | None = None
    createdAt: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _present({
            "id": self.id,
            "groupId": self.groupId,
            "name": self.name,
            "dpskGuid": self.dpskGuid,
            "vlan": self.vlan,
            "createdAt": self.createdAt,
        })  # fmt: skip


@dataclass(slots=True)
class Passphrase:
    id: str
    username: str
    passphrase: str
    vlanId: int | None = None
    expirationDate: str | None = None
    numberOfDevices: int | None = None
    createdDate: str = ""

    def to_json(self) -> dict[str, Any]:
        """dpsk_service DpskPassphraseDto (dates as date-times)."""
        return _present({
            "id": self.id,
            "username": self.username,
            "passphrase": self.passphrase,
            "vlanId": self.vlanId,
            "expirationDate": _datetime(self.expirationDate),
            "numberOfDevices": self.numberOfDevices,
            "createdDate": self.createdDate or None,
        })  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Passphrase:
        return cls(
            d["id"],
            d.get("username") or "",
            d["passphrase"],
            d.get("vlanId"),
            d.get("expirationDate"),
            d.get("numberOfDevices"),
            d.get("createdDate") or "",
        )


def _datetime(value: str | None) -> str | None:
    """An ISO date given on input, answered as R1's date-time."""
    if value and len(value) == 10:
        return f"{value}T00:00:00Z"
    return value


@dataclass(slots=True)
class DpskPool:
    id: str
    name: str
    identityGroupId: str
    passphraseFormat: str = "MOST_SECURED"
    passphraseLength: int = 18
    expirationType: str | None = None
    deviceCountLimit: int | None = None
    networkIds: set[str] = field(default_factory=set)
    """Internal: R1 answers only `networkCount`."""
    passphrases: dict[str, Passphrase] = field(default_factory=dict)
    by_value: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """dpsk_service DpskPoolDto: documented fields only."""
        return _present({
            "id": self.id,
            "name": self.name,
            "identityGroupId": self.identityGroupId,
            "passphraseFormat": self.passphraseFormat,
            "passphraseLength": self.passphraseLength,
            "expirationType": self.expirationType,
            "deviceCountLimit": self.deviceCountLimit,
            "networkCount": len(self.networkIds),
            "isReferenced": bool(self.networkIds),
        })  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DpskPool:
        return cls(
            d["id"],
            d["name"],
            d.get("identityGroupId") or d.get("identityId") or "",
            d.get("passphraseFormat") or "MOST_SECURED",
            int(d.get("passphraseLength") or 18),
            d.get("expirationType"),
            d.get("deviceCountLimit"),
        )
