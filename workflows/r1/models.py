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
    id: str
    name: str | None = None
    venue_id: str | None = None
    description: str | None = None
    is_default: bool | None = None


class Ap(R1Model):
    serial_number: str
    name: str | None = None
    model: str | None = None
    venue_id: str | None = None
    ap_group_id: str | None = None


WlanSecurity = Literal["WPA2Personal", "WPA3Personal", "WPA23Mixed"]


class Wlan(R1Model):
    ssid: str | None = None
    wlan_security: str | None = None
    passphrase: SecretStr | None = None
    sae_passphrase: SecretStr | None = None
    vlan_id: int | None = None


class WifiNetwork(R1Model):
    id: str
    name: str | None = None
    type: str | None = None
    ssid: str | None = None
    wlan: Wlan | None = None
    dpsk_service_id: str | None = None
    venue_ids: list[str] | None = None
    description: str | None = None

    @property
    def effective_ssid(self) -> str | None:
        return self.ssid or (self.wlan.ssid if self.wlan else None)


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
    network_ids: list[str] | None = None
    """Not a document field: R1 never answers it (kept None so old readers fail
    safe); read `network_count`."""


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
