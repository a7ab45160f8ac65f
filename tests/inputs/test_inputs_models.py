"""UnitInput field rules, independent of any file format."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from workflows.inputs import SecurityType, UnitInput


def unit(**overrides: object) -> UnitInput:
    fields: dict[str, object] = {"unit_number": "101", "ssid_name": "Unit-101"}
    fields.update(overrides)
    return UnitInput.model_validate(fields)


def test_minimal_unit_defaults() -> None:
    u = unit()
    assert u.key == "101"
    assert u.ap_serials == []
    assert u.ssid_password is None
    assert u.security_type is SecurityType.WPA2
    assert u.default_vlan is None


def test_serials_split_uppercased() -> None:
    assert unit(ap_serials=" abc123 ; 921000000001;;").ap_serials == ["ABC123", "921000000001"]


@pytest.mark.parametrize("serial", ["abc12", "a" * 21, "92100-0001", "921 000", ""])
def test_bad_serials_rejected(serial: str) -> None:
    with pytest.raises(ValidationError):
        unit(ap_serials=[serial])


def test_serial_repeated_within_unit() -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        unit(ap_serials=["abc123", "ABC123"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("WPA2", SecurityType.WPA2),
        ("wpa3", SecurityType.WPA3),
        ("WPA2/WPA3", SecurityType.WPA2_WPA3),
        ("wpa23mixed", SecurityType.WPA2_WPA3),
        ("WPA23Mixed", SecurityType.WPA2_WPA3),
    ],
)
def test_security_types(raw: str, expected: SecurityType) -> None:
    assert unit(security_type=raw).security_type is expected


def test_security_type_r1_values() -> None:
    assert [s.r1_wlan_security for s in SecurityType] == [
        "WPA2Personal",
        "WPA3",
        "WPA23Mixed",
    ]


@pytest.mark.parametrize("password", ["12345678", "x" * 63, "a" * 64, "0123456789ABCDEF" * 4])
def test_valid_passphrases(password: str) -> None:
    u = unit(ssid_password=password)
    assert isinstance(u.ssid_password, SecretStr)
    assert u.ssid_password.get_secret_value() == password


@pytest.mark.parametrize("password", ["", "1234567", "x" * 64, "g" * 64, "pässword", "tab\there"])
def test_invalid_passphrases(password: str) -> None:
    with pytest.raises(ValidationError) as info:
        unit(ssid_password=password)
    assert password not in str(info.value) or password == ""


@pytest.mark.parametrize(("raw", "expected"), [(1, 1), (4094, 4094), ("101", 101), ("", None)])
def test_vlans(raw: object, expected: int | None) -> None:
    assert unit(default_vlan=raw).default_vlan == expected


@pytest.mark.parametrize("raw", [0, 4095, -1, True, 1.5, "1e3", "x"])
def test_bad_vlans(raw: object) -> None:
    with pytest.raises(ValidationError):
        unit(default_vlan=raw)


@pytest.mark.parametrize("name", ["", "x" * 33, "é" * 17, "bad\x00ssid", " padded"])
def test_bad_ssids(name: str) -> None:
    with pytest.raises(ValidationError):
        unit(ssid_name=name)


def test_unit_number_limits() -> None:
    assert unit(unit_number=" 12A ").unit_number == "12A"
    assert unit(unit_number=7).unit_number == "7"
    for bad in ["", "  ", "x" * 33, True, None, "a\nb"]:
        with pytest.raises(ValidationError):
            unit(unit_number=bad)


def test_model_is_strict_and_frozen() -> None:
    with pytest.raises(ValidationError):
        unit(extra_field=1)
    with pytest.raises(ValidationError):
        unit(ssid_name=5)
    u = unit()
    with pytest.raises(ValidationError):
        u.unit_number = "102"  # type: ignore[misc]


def test_validation_error_text_hides_secret() -> None:
    with pytest.raises(ValidationError) as info:
        unit(ssid_password="short-x", default_vlan=9999)
    assert "short-x" not in str(info.value)


@pytest.mark.parametrize("name", ["Unit-101-AP1", "Lobby AP", "ap_7.b"])
def test_ap_names_accepted_as_is(name: str) -> None:
    assert unit(ap_serials=[name, "abc123"]).ap_serials == [name, "ABC123"]


@pytest.mark.parametrize("name", ["-AP1", "AP-", "12-34", "a", "AP;1", "x" * 30 + "-" + "y" * 40])
def test_bad_ap_names_rejected(name: str) -> None:
    with pytest.raises(ValidationError):
        unit(ap_serials=[name])
