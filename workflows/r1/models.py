"""Pydantic models of the R1 resources the workflows touch.

Fields are snake_case with camelCase aliases (R1's JSON); unknown fields are
kept (`extra="allow"`) so nothing the API adds is lost. Anything secret
(passphrases) is a `SecretStr`: reprs and logs show `**********`, and only
code that means to reveals it with `get_secret_value()`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr
from pydantic.alias_generators import to_camel


class R1Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=False
    )


class Accepted(R1Model):
    """What a write answered: the activity to wait for, and the new id if any."""

    request_id: str | None = None
    id: str | None = None
    status_code: int = 202

    @property
    def asynchronous(self) -> bool:
        return self.request_id is not None

    @classmethod
    def from_response(cls, status: int, body: Any) -> Accepted:
        """Pick `requestId` and `id` (or `response.id`, as Wi-Fi networks answer)."""
        if not isinstance(body, dict):
            return cls(status_code=status)
        inner = body.get("response") if isinstance(body.get("response"), dict) else {}
        request_id = body.get("requestId") or inner.get("requestId")
        rid = body.get("id") or inner.get("id")
        return cls(
            request_id=str(request_id) if request_id else None,
            id=str(rid) if rid else None,
            status_code=status,
        )


class Venue(R1Model):
    id: str
    name: str | None = None
    address: Any = None


class ApGroup(R1Model):
    """A `/venues/apGroups/query` row (ApGroupQueryData)."""

    id: str
    name: str | None = None
    venue_id: str | None = None
    description: str | None = None
    is_default: bool | None = None


class Ap(R1Model):
    """A `/venues/aps/query` row (ApQueryData, the fields `AP_FIELDS` asks for)."""

    serial_number: str
    name: str | None = None
    model: str | None = None
    venue_id: str | None = None
    ap_group_id: str | None = None


WlanSecurity = Literal["WPAPersonal", "WPA2Personal", "WEP", "WPA23Mixed", "WPA3"]
"""wifi_api PskWifiWlan.wlanSecurity; DpskWifiWlan allows WPAPersonal, WPA2Personal, WPA23Mixed."""

NETWORK_KINDS = ("psk", "dpsk", "open", "aaa", "guest", "hotspot20")


class Wlan(R1Model):
    """What a query row says about a network's WLAN (no secret is ever answered)."""

    ssid: str | None = None
    wlan_security: str | None = None
    vlan_id: int | None = None
    passphrase: SecretStr | None = None


class WifiNetwork(R1Model):
    """A `/wifiNetworks/query` row (viewmodel WifiNetworkQueryData).

    Only documented answer fields are read (`NETWORK_FIELDS` asks for them):
    the kind is `nwSubType` (psk, dpsk, ... as the R1 UI reads it; `nwType` as
    a fallback), the security `securityProtocol`, the VLAN `vlan`, the
    activations `venueApGroups`. A row carries no passphrase and no DPSK
    service id: bindings are read from the pool side.
    """

    id: str
    name: str | None = None
    description: str | None = None
    ssid: str | None = None
    vlan: int | None = None
    nw_type: str | None = None
    nw_sub_type: str | None = None
    security_protocol: str | None = None
    # `venueApGroups` stays in `model_extra` (read by `inventory.venue_ap_groups`).

    @property
    def type(self) -> str | None:
        """psk, dpsk, ... from `nwSubType` (else `nwType`), lower case."""
        for raw in (self.nw_sub_type, self.nw_type):
            if raw and raw.lower() in NETWORK_KINDS:
                return raw.lower()
        return None

    @property
    def effective_ssid(self) -> str | None:
        return self.ssid

    @property
    def wlan(self) -> Wlan:
        return Wlan(ssid=self.ssid, wlan_security=self.security_protocol, vlan_id=self.vlan)

    @property
    def dpsk_service_id(self) -> str | None:
        """Not in a query row (WifiNetworkQueryData has no such field)."""
        return None


class IdentityGroup(R1Model):
    """identity_management IdentityGroup: `dpskPoolId` is its pool, `identityCount`
    how many identities (one per DPSK passphrase) it still holds."""

    id: str
    name: str | None = None
    description: str | None = None
    dpsk_pool_id: str | None = None
    identity_count: int | None = None


class Identity(R1Model):
    """identity_management Identity; `dpskGuid` is the passphrase it stands for."""

    id: str
    group_id: str | None = None
    name: str | None = None
    dpsk_guid: str | None = None
    vlan: int | None = None


class DpskPool(R1Model):
    """dpsk_service DpskPoolDto. R1 reports how many networks use the pool
    (`networkCount`), never which ones."""

    id: str
    name: str | None = None
    identity_group_id: str | None = None
    passphrase_format: str | None = None
    passphrase_length: int | None = None
    device_count_limit: int | None = None
    expiration_type: str | None = None
    network_count: int | None = None


class Passphrase(R1Model):
    """dpsk_service DpskPassphraseDto."""

    id: str
    username: str | None = None
    passphrase: SecretStr | None = None
    vlan_id: int | str | None = None
    expiration_date: str | None = None
    number_of_devices: int | None = None


class PassphraseRow(BaseModel):
    """One passphrase to import; the value stays secret until the CSV is built."""

    username: str
    passphrase: SecretStr | None = None
    vlan_id: int | None = None
    expiration_date: str | None = None
    number_of_devices: int | None = None
