"""Per-unit CSV: good files, each error class with its exact location text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import InputError
from workflows.inputs import SecurityType, parse_units_csv

HEADER = "unit_number,ap_identifiers,ssid_name,ssid_password,security_type,default_vlan\n"
Details = Callable[..., list[str]]


def test_good_csv_bom_crlf_quotes_blank_lines(data_dir: Path) -> None:
    units = parse_units_csv(data_dir / "units_good.csv")
    assert [u.unit_number for u in units] == ["101", "102", "103", "104"]
    first, second, third, fourth = units
    assert first.ap_serials == ["921000000001", "921000000002"]
    assert first.ssid_password is not None
    assert first.ssid_password.get_secret_value() == "pass,word-101"
    assert first.default_vlan == 101
    assert second.ssid_name == 'Unit "102"'
    assert second.security_type is SecurityType.WPA3
    assert third.ap_serials == [] and third.ssid_password is None and third.default_vlan is None
    assert third.security_type is SecurityType.WPA2_WPA3
    assert fourth.ap_serials == ["ABCDEF123456"] and fourth.default_vlan == 4094


def test_path_given_as_str_and_bytes_and_text(data_dir: Path) -> None:
    path = data_dir / "units_good.csv"
    from_path = parse_units_csv(str(path))
    assert parse_units_csv(path.read_bytes()) == from_path
    assert parse_units_csv(path.read_text(encoding="utf-8-sig")) == from_path


def test_utf16_with_bom_is_accepted() -> None:
    text = HEADER + "101,921000000001,Café,password1,WPA2,10\n"
    units = parse_units_csv(text.encode("utf-16"))
    assert units[0].ssid_name == "Café"


def test_tab_separated_is_accepted() -> None:
    text = HEADER.replace(",", "\t") + "101\t921000000001;921000000002\tU\t\tWPA3\t7\n"
    assert parse_units_csv(text)[0].ap_serials == ["921000000001", "921000000002"]


def test_one_ap_per_row_variant_merges(data_dir: Path) -> None:
    units = parse_units_csv(data_dir / "units_per_ap.csv")
    assert [u.unit_number for u in units] == ["201", "202"]
    assert units[0].ap_serials == ["921000000101", "921000000102", "921000000104"]
    assert units[0].default_vlan == 201


def test_every_error_reported_with_location(data_dir: Path, details_of: Details) -> None:
    details = details_of(parse_units_csv, data_dir / "units_bad.csv")
    assert details == [
        "units_bad.csv:3:6 default_vlan: must be a VLAN id 1-4094 (got '5000')",
        "units_bad.csv:4:1 unit_number: duplicate unit (first at line 2) (got '101')",
        "units_bad.csv:5:2 ap_identifiers: AP serial already assigned to unit '101' (line 2)"
        " (got '921000000001')",
        "units_bad.csv:6:2 ap_identifiers: is not a valid AP serial (6-20 letters or digits)"
        " or AP name (got '92100-0005')",
        "units_bad.csv:7:4 ssid_password: must be 8-63 characters (or 64 hex digits) (got '••••')",
        "units_bad.csv:8:3 ssid_name: must be at most 32 bytes (UTF-8)"
        " (got 'This SSID name is far too long for Wi-Fi')",
        "units_bad.csv:9:5 security_type: must be one of WPA2, WPA3, WPA2/WPA3 (got 'WEP')",
        "units_bad.csv:10:1 unit_number: must be at most 32 characters"
        " (got '123456789012345678901234567890123')",
        "units_bad.csv:11 row: expected 6 fields, got 5 (quote values containing commas)",
        "units_bad.csv:12:6 default_vlan: must be a VLAN id 1-4094 (got 'abc')",
    ]
    text = " ".join(details)
    assert "Hunter2" not in text and "short" not in text


def test_error_message_summary(data_dir: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_units_csv(data_dir / "units_bad.csv")
    assert info.value.message == "units_bad.csv: 10 input errors"
    assert str(info.value).startswith("units_bad.csv: 10 input errors: units_bad.csv:3:6 ")


def test_source_name_overrides(details_of: Details) -> None:
    details = details_of(parse_units_csv, HEADER + "1,,U,,,0\n", source_name="units.csv")
    assert details == ["units.csv:2:6 default_vlan: must be a VLAN id 1-4094 (got '0')"]


def test_empty_passphrase_cell_is_none_but_required_when_asked(details_of: Details) -> None:
    text = HEADER + "1,,U,,,\n"
    assert parse_units_csv(text)[0].ssid_password is None
    details = details_of(parse_units_csv, text, require_password=True)
    assert details == ["<input>:2:4 ssid_password: required (a WPA passphrase for the unit's SSID)"]


def test_duplicate_unit_is_case_insensitive(details_of: Details) -> None:
    text = HEADER + "12a,,U,,,\n12A,,V,,,\n"
    assert details_of(parse_units_csv, text) == [
        "<input>:3:1 unit_number: duplicate unit '12a' (first at line 2) (got '12A')"
    ]


def test_serial_repeated_in_one_cell(details_of: Details) -> None:
    text = HEADER + "1,abc123;ABC123,U,,,\n"
    assert details_of(parse_units_csv, text) == [
        "<input>:2:2 ap_identifiers: AP serial listed twice for the unit (got 'ABC123')"
    ]


def test_multiline_quoted_record_reports_its_first_line(details_of: Details) -> None:
    text = HEADER + '1,,"Unit\none",,,\n2,,U,,,9999\n'
    details = details_of(parse_units_csv, text)
    assert details == [
        "<input>:2:3 ssid_name: must not contain control characters (got 'Unit\\none')",
        "<input>:4:6 default_vlan: must be a VLAN id 1-4094 (got '9999')",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "<input> file: is empty"),
        ("  \r\n\r\n", "<input> file: is empty"),
        (HEADER, "<input>:1 file: has a header but no unit rows"),
        (HEADER + '1,,"U,,,\n', "<input>:2 csv: malformed CSV: unexpected end of data"),
        (HEADER + '1,,"U"x,,,\n', "<input>:2 csv: malformed CSV: ',' expected after '\"'"),
        (
            "unit_number,ap_identifiers,ssid_name,color\n1,,U,red\n",
            "<input>:1:4 header: unknown column (expected unit_number, ap_identifiers,"
            " ssid_name, ssid_password, security_type, default_vlan) (got 'color')",
        ),
        (
            "unit_number,ap_identifiers\n1,x\n",
            "<input>:1 header: missing required column(s): ssid_name",
        ),
        (
            "ssid_name\nU\n",
            "<input>:1 header: missing required column(s): unit_number, ap_identifiers",
        ),
    ],
)
def test_malformed_inputs(text: str, expected: str, details_of: Details) -> None:
    assert details_of(parse_units_csv, text) == [expected]


def test_header_repeated_and_unnamed_columns(details_of: Details) -> None:
    text = "unit_number,ap_identifiers,SSID Name,ssid_name,,ssid_password\n1,,U,U,,\n"
    assert details_of(parse_units_csv, text) == [
        "<input>:1:4 header: column repeated (also column 3) (got 'ssid_name')",
        "<input>:1:5 header: column 5 has no name",
    ]


def test_both_ap_columns_is_an_error(details_of: Details) -> None:
    text = "unit_number,ap_identifiers,ap_serial_or_name,ssid_name\n1,,,U\n"
    assert details_of(parse_units_csv, text) == [
        "<input>:1 header: use either ap_identifiers or ap_serial_or_name, not both"
    ]


def test_non_utf8_names_line_and_column(details_of: Details) -> None:
    data = (HEADER + "1,,Caf\xe9,,,\n").encode("latin-1")
    assert details_of(parse_units_csv, data, source_name="u.csv") == [
        "u.csv:2:7 file: not valid UTF-8 (byte 0xe9); save the file as UTF-8"
    ]


def test_missing_file(tmp_path: Path, details_of: Details) -> None:
    assert details_of(parse_units_csv, tmp_path / "nope.csv") == [
        f"nope.csv file: not found: '{tmp_path / 'nope.csv'}'"
    ]
    assert details_of(parse_units_csv, tmp_path) == [
        f"{tmp_path.name} file: is a directory, not a file"
    ]


def test_per_ap_rows_must_agree(details_of: Details) -> None:
    text = (
        "unit_number,ap_serial_or_name,ssid_name,ssid_password,security_type,default_vlan\n"
        "7,921000000001,Unit-7,Hunter2-secret-a,WPA2,7\n"
        "7,921000000002,Unit-7b,Hunter2-secret-b,WPA3,7\n"
        "7,921000000001,,,,8\n"
        "8,921000000002,Unit-8,,,\n"
    )
    details = details_of(parse_units_csv, text, source_name="units.csv")
    assert details == [
        "units.csv:3:3 ssid_name: differs from line 2 ('Unit-7') for unit '7' (got 'Unit-7b')",
        "units.csv:3:4 ssid_password: differs from line 2 for unit '7' (got '••••')",
        "units.csv:3:5 security_type: differs from line 2 ('WPA2') for unit '7' (got 'WPA3')",
        "units.csv:4:2 ap_serial_or_name: AP serial listed twice for the unit (also line 2)"
        " (got '921000000001')",
        "units.csv:4:6 default_vlan: differs from line 2 ('7') for unit '7' (got '8')",
        "units.csv:5:2 ap_serial_or_name: AP serial already assigned to unit '7' (line 2)"
        " (got '921000000002')",
    ]
    assert "Hunter2" not in " ".join(details)


def test_errors_are_capped(details_of: Details) -> None:
    rows = "".join(f"{i},,U{i},,,0\n" for i in range(1, 121))
    details = details_of(parse_units_csv, HEADER + rows)
    assert len(details) == 51
    assert details[0] == "<input>:2:6 default_vlan: must be a VLAN id 1-4094 (got '0')"
    assert details[-1] == "... and 70 more error(s) not shown"


def test_one_ap_per_row_with_ap_names() -> None:
    text = (
        "unit_number,ap_serial_or_name,ssid_name,ssid_password,security_type,default_vlan\n"
        "101,Unit-101-AP1,Unit-101,secret-101,WPA2,101\n"
        "101,921000000002,Unit-101,,,\n"
        "102,Unit-102-AP1,Unit-102,secret-102,WPA3,102\n"
    )
    first, second = parse_units_csv(text)
    assert first.ap_serials == ["Unit-101-AP1", "921000000002"]
    assert second.ap_serials == ["Unit-102-AP1"]
