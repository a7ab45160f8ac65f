"""Typed, validated units for the per-unit workflows (`per_unit_psk`, `per_unit_dpsk`).

Field validators raise `PydanticCustomError` with short messages that never
contain the input; the readers add the location and the (masked) value.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
)
from pydantic_core import PydanticCustomError

UNIT_NUMBER_MAX = 32
SSID_MAX_BYTES = 32
VLAN_MIN, VLAN_MAX = 1, 4094

AP_LIST_COLUMN = "ap_identifiers"
"""The CSV column of a unit's APs, ';'-separated (rtools2's per-unit CSV)."""
AP_ROW_COLUMN = "ap_serial_or_name"
"""The CSV column of the one-AP-per-row variant (rows merged by unit)."""
COLUMN_SPELLINGS = {"ap_serials": AP_LIST_COLUMN, "ap_serial": AP_ROW_COLUMN}
"""Other spellings of those columns that the CSV reader accepts."""
AP_SERIALS_ALIASES = (AP_LIST_COLUMN, AP_ROW_COLUMN, "ap_serial")
"""Other names a unit object may give `ap_serials`: the CSV's columns. One vocabulary:
the CSV reader and the unit model both read it from here."""

_SERIAL_RE = re.compile(r"[A-Za-z0-9]{6,20}")
_AP_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}[A-Za-z0-9]")
_HEX64_RE = re.compile(r"[0-9A-Fa-f]{64}")
_INT_RE = re.compile(r"[+]?[0-9]{1,9}")


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


class SecurityType(StrEnum):
    """Wi-Fi security of a unit's SSID, as the CSV spells it."""

    WPA2 = "WPA2"
    WPA3 = "WPA3"
    WPA2_WPA3 = "WPA2/WPA3"

    @property
    def r1_wlan_security(self) -> str:
        """The R1 `wlan.wlanSecurity` value (wifi_api PskWifiWlan enum)."""
        return {"WPA2": "WPA2Personal", "WPA3": "WPA3", "WPA2/WPA3": "WPA23Mixed"}[self.value]


_SECURITY_ALIASES = {
    "WPA2": SecurityType.WPA2,
    "WPA2PERSONAL": SecurityType.WPA2,
    "WPA3": SecurityType.WPA3,
    "WPA3PERSONAL": SecurityType.WPA3,
    "WPA2/WPA3": SecurityType.WPA2_WPA3,
    "WPA2WPA3": SecurityType.WPA2_WPA3,
    "WPA23MIXED": SecurityType.WPA2_WPA3,
    "WPA2/WPA3MIXED": SecurityType.WPA2_WPA3,
}


def parse_security_type(value: Any) -> SecurityType:
    """'wpa2', 'WPA3', 'WPA2/WPA3', 'WPA23Mixed' (any case) -> SecurityType."""
    if isinstance(value, SecurityType):
        return value
    if not isinstance(value, str):
        raise _fail("security_type", "must be one of WPA2, WPA3, WPA2/WPA3")
    key = re.sub(r"[\s_-]", "", value).upper()
    try:
        return _SECURITY_ALIASES[key]
    except KeyError:
        raise _fail("security_type", "must be one of WPA2, WPA3, WPA2/WPA3") from None


def _no_control(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


def check_unit_number(value: Any) -> str:
    """Non-empty, at most 32 printable characters; ints are accepted as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _fail("unit_number", "must be a string")
    text = value.strip()
    if not text:
        raise _fail("unit_number", "must not be empty")
    if len(text) > UNIT_NUMBER_MAX:
        raise _fail("unit_number", f"must be at most {UNIT_NUMBER_MAX} characters")
    if not _no_control(text):
        raise _fail("unit_number", "must not contain control characters")
    return text


def is_ap_name(text: str) -> bool:
    """An AP *name* (e.g. 'Unit-101-AP1'), not a serial: resolved from the venue's
    inventory at plan time. 2-64 characters, a letter and a separator among them."""
    return (
        bool(_AP_NAME_RE.fullmatch(text))
        and any(c.isalpha() for c in text)
        and any(c in " ._-" for c in text)
    )


def check_ap_serial(value: Any) -> str:
    """An R1 AP serial (6-20 letters/digits, uppercased) or an AP name (kept as is)."""
    if not isinstance(value, str):
        raise _fail("ap_serial", "must be a string")
    text = value.strip()
    if _SERIAL_RE.fullmatch(text):
        return text.upper()
    if is_ap_name(text):
        return text
    raise _fail("ap_serial", "is not a valid AP serial (6-20 letters or digits) or AP name")


def split_serials(value: Any) -> Any:
    """Accept a ';'-separated string as a list; drop empty items."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    if value is None:
        return []
    return value


def _unique_serials(serials: list[str]) -> list[str]:
    seen: set[str] = set()
    for serial in serials:
        if serial in seen:
            raise _fail("ap_serial_repeated", f"AP serial {serial!r} is listed twice")
        seen.add(serial)
    return serials


def check_ssid(value: Any) -> str:
    """An SSID: 1-32 bytes (UTF-8), no control characters or outer whitespace."""
    if not isinstance(value, str):
        raise _fail("ssid_name", "must be a string")
    if not value:
        raise _fail("ssid_name", "must not be empty")
    if len(value.encode("utf-8")) > SSID_MAX_BYTES:
        raise _fail("ssid_name", f"must be at most {SSID_MAX_BYTES} bytes (UTF-8)")
    if not _no_control(value):
        raise _fail("ssid_name", "must not contain control characters")
    if value != value.strip():
        raise _fail("ssid_name", "must not start or end with whitespace")
    return value


def check_wpa_passphrase(value: Any) -> SecretStr | None:
    """None, or a WPA passphrase: 8-63 printable ASCII characters or 64 hex digits."""
    if value is None:
        return None
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        raise _fail("passphrase", "must be a string")
    if not value:
        raise _fail("passphrase", "must not be empty (leave it out for DPSK units)")
    if _HEX64_RE.fullmatch(value):
        return SecretStr(value)
    if not 8 <= len(value) <= 63:
        raise _fail("passphrase", "must be 8-63 characters (or 64 hex digits)")
    if not all(" " <= ch <= "~" for ch in value):
        raise _fail("passphrase", "must contain only printable ASCII characters")
    return SecretStr(value)


def check_vlan(value: Any) -> int | None:
    """None/'' -> None; an int or decimal string in 1-4094 -> int."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _INT_RE.fullmatch(text):
            raise _fail("vlan", f"must be a VLAN id {VLAN_MIN}-{VLAN_MAX}")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail("vlan", f"must be a VLAN id {VLAN_MIN}-{VLAN_MAX}")
    if not VLAN_MIN <= value <= VLAN_MAX:
        raise _fail("vlan", f"must be a VLAN id {VLAN_MIN}-{VLAN_MAX}")
    return value


UnitNumber = Annotated[str, BeforeValidator(check_unit_number)]
ApSerial = Annotated[str, BeforeValidator(check_ap_serial)]
SsidName = Annotated[str, BeforeValidator(check_ssid)]
WpaPassphrase = Annotated[SecretStr | None, BeforeValidator(check_wpa_passphrase)]
VlanId = Annotated[int | None, BeforeValidator(check_vlan)]


class UnitInput(BaseModel):
    """One apartment unit: its APs, its SSID and how that SSID is secured.

    Field names are the per-unit CSV's columns; `ap_serials` is also accepted under the
    CSV's `ap_identifiers` / `ap_serial_or_name` (and always serialized as `ap_serials`)."""

    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, hide_input_in_errors=True, validate_by_name=True
    )

    unit_number: UnitNumber = Field(
        description="The unit's id, unique in the job: 1-32 printable characters (a number is "
        'taken as text), e.g. "101". Names its R1 resources through the naming templates '
        "({unit_number}) and is the unit's key in the job."
    )
    ap_serials: Annotated[
        list[ApSerial], BeforeValidator(split_serials), AfterValidator(_unique_serials)
    ] = Field(
        default_factory=list,
        validation_alias=AliasChoices("ap_serials", *AP_SERIALS_ALIASES),
        description="The unit's APs in the venue: R1 AP serial numbers (6-20 letters or "
        'digits; R1 serials are 12 digits, e.g. "921000000001") or AP names as R1 shows them '
        '(e.g. "Unit-101-AP1"). A list, or one string separated by ";" as in the CSV\'s '
        f"{AP_LIST_COLUMN} column (also accepted under that name, or {AP_ROW_COLUMN}). "
        "Each AP is moved to the unit's AP group. Default empty: the unit's network is "
        "created but no AP broadcasts it.",
    )
    ssid_name: SsidName = Field(
        description="The SSID clients see: 1-32 bytes (UTF-8), no control characters, no "
        'leading or trailing spaces, e.g. "Unit-101".'
    )
    ssid_password: WpaPassphrase = Field(
        default=None,
        description="WPA passphrase: 8-63 printable ASCII characters, or 64 hex digits. "
        "Secret: stored sealed, never echoed. per_unit_psk: the network's PSK (required). "
        "per_unit_dpsk: the unit's first DPSK passphrase; omit it (null) to have R1 generate "
        "one.",
    )
    security_type: Annotated[SecurityType, BeforeValidator(parse_security_type)] = Field(
        default=SecurityType.WPA2,
        description='Wi-Fi security of the SSID: "WPA2", "WPA3" or "WPA2/WPA3" (any case; '
        '"WPA2Personal", "WPA23Mixed" accepted too). Default "WPA2". DPSK networks allow '
        "WPA2 and WPA2/WPA3 only.",
    )
    default_vlan: VlanId = Field(
        default=None,
        description="The unit's VLAN id, 1-4094 (a number or decimal text), e.g. 101. Default "
        "null: the workflow's options.default_vlan, else VLAN 1.",
    )

    @property
    def key(self) -> str:
        """The unit's id within a job (its unit number)."""
        return self.unit_number


SECRET_UNIT_FIELDS = frozenset({"ssid_password"})
