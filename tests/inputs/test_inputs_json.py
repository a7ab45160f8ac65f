"""Unit lists as JSON, `validate_units` and `load_units` dispatch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workflows.inputs import (
    CloudpathExport,
    SecurityType,
    UnitInput,
    load_units,
    parse_units_csv,
    parse_units_json,
    validate_units,
)

Details = Callable[..., list[str]]


def test_good_json_list(data_dir: Path) -> None:
    units = parse_units_json(data_dir / "units_good.json")
    assert [u.unit_number for u in units] == ["101", "102", "103"]
    assert units[1].ap_serials == ["921000000003", "921000000004"]
    assert units[1].default_vlan == 102 and units[1].ssid_password is None
    assert units[1].security_type is SecurityType.WPA2_WPA3


def test_good_json_wrapped(data_dir: Path) -> None:
    (unit,) = parse_units_json(data_dir / "units_wrapped.json")
    assert unit.key == "A1" and unit.ap_serials == ["ABC123DEF456"]


def test_bad_json_all_errors_located(data_dir: Path, details_of: Details) -> None:
    details = details_of(parse_units_json, data_dir / "units_bad.json")
    assert details == [
        "units_bad.json:4 units[1].ap_identifiers[1]: is not a valid AP serial"
        " (6-20 letters or digits) or AP name (got 'x!')",
        "units_bad.json:4 units[1].unit_number: duplicate unit (first at units[0], line 2)"
        " (got '101')",
        "units_bad.json:4 units[1].ap_identifiers[0]: AP serial already assigned to unit '101'"
        " (units[0], line 2) (got '921000000001')",
        "units_bad.json:5 units[1].ssid_password: must not be empty (leave it out for DPSK units)"
        " (got '••••')",
        "units_bad.json:5 units[1].default_vlan: must be a VLAN id 1-4094 (got 0)",
        "units_bad.json:6 units[2]: must be an object, got a string",
        "units_bad.json:7 units[3].ssid_pasword: unknown field",
        "units_bad.json:8 units[3].security_type: must be one of WPA2, WPA3, WPA2/WPA3 (got true)",
        "units_bad.json:9 units[4].unit_number: required",
        "units_bad.json:9 units[4].default_vlan: must be a VLAN id 1-4094 (got 4095)",
    ]
    assert "Hunter2" not in " ".join(details)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "<input> file: is empty"),
        (
            '[\n  {"unit_number": 1,}\n]',
            "<input>:2:21 json: invalid JSON: Expecting property name enclosed in double quotes",
        ),
        ('{"units": 3}', "<input>:1 units: expected a list of units, got a number"),
        ('"units"', '<input>:1 $: expected a list of units or {"units": [...]}, got a string'),
        ("[]", "<input>:1 $: no units"),
        ("[NaN]", "<input> json: invalid JSON: NaN is not allowed"),
        ("[" * 100_000, "<input> json: invalid JSON: nested too deeply"),
        ("[1" + "0" * 5000 + "]", "<input> json: invalid JSON: a number is too long"),
    ],
)
def test_malformed_json(text: str, expected: str, details_of: Details) -> None:
    assert details_of(parse_units_json, text) == [expected]


def test_json_non_utf8(details_of: Details) -> None:
    assert details_of(parse_units_json, b'[{"unit_number": "\xff"}]', source_name="u.json") == [
        "u.json:1:19 file: not valid UTF-8 (byte 0xff); save the file as UTF-8"
    ]


def test_validate_units_for_rpc_params(details_of: Details) -> None:
    ok = validate_units({"units": [{"unit_number": "1", "ssid_name": "S"}]})
    assert ok == [UnitInput(unit_number="1", ssid_name="S")]
    details = details_of(
        validate_units,
        [{"unit_number": "1", "ssid_name": "S", "ssid_password": "x"}, {"unit_number": "1"}],
        source_name="params.units",
    )
    assert details == [
        "params.units [0].ssid_password: must be 8-63 characters (or 64 hex digits) (got '••••')",
        "params.units [1].ssid_name: required",
        "params.units [1].unit_number: duplicate unit (first at [0]) (got '1')",
    ]


def test_validate_units_accepts_models_and_checks_across() -> None:
    a = UnitInput(unit_number="1", ssid_name="S", ap_serials=["abc123"])
    assert validate_units([a]) == [a]
    with pytest.raises(Exception, match="already assigned"):
        validate_units([a, UnitInput(unit_number="2", ssid_name="S", ap_serials=["abc123"])])


def test_load_units_dispatch(data_dir: Path) -> None:
    assert load_units(data_dir / "units_good.csv") == parse_units_csv(data_dir / "units_good.csv")
    assert load_units(data_dir / "units_good.json") == parse_units_json(
        data_dir / "units_good.json"
    )
    assert isinstance(load_units(data_dir / "cloudpath_good.json"), CloudpathExport)
    assert isinstance(load_units(data_dir / "cloudpath_bare.json"), CloudpathExport)


def test_load_units_sniffs_content_without_extension(tmp_path: Path, data_dir: Path) -> None:
    for name in ("units_good.csv", "units_good.json", "cloudpath_bare.json"):
        target = tmp_path / name.replace(".", "_")
        target.write_bytes((data_dir / name).read_bytes())
        assert load_units(target) == load_units(data_dir / name)


def test_load_units_kind_mismatch(data_dir: Path, details_of: Details) -> None:
    assert details_of(load_units, data_dir / "cloudpath_good.json", kind="units") == [
        "cloudpath_good.json:1 file: is a Cloudpath DPSK export, not a unit list"
    ]
    assert details_of(load_units, data_dir / "units_good.csv", kind="cloudpath") == [
        "units_good.csv file: a Cloudpath export must be JSON, not CSV"
    ]
    assert details_of(load_units, data_dir / "units_good.json", kind="cloudpath")[0].startswith(
        "units_good.json:2 [0].name: required"
    )
