"""One vocabulary for the CSV columns and the unit model, and the input file's
content given as text (plan_job's input_text) read by the CLI's readers."""

from __future__ import annotations

import pytest

from engine.errors import InputError
from workflows.inputs import UnitInput
from workflows.inputs.csv_reader import ALL_COLUMNS, _column_key
from workflows.inputs.models import COLUMN_SPELLINGS
from workflows.inputs.text import readable
from workflows.loaders import parse_options_text, parse_unit_list

HEADER = "unit_number,ap_identifiers,ssid_name,ssid_password,security_type,default_vlan\n"
VALUES = {
    "unit_number": "101",
    "ssid_name": "Home",
    "ssid_password": "Passw0rd-101",
    "security_type": "WPA3",
    "default_vlan": "101",
}


@pytest.mark.parametrize("column", [*ALL_COLUMNS, *COLUMN_SPELLINGS])
def test_every_csv_column_name_is_a_unit_object_key(column: str) -> None:
    unit = dict(VALUES)
    value = unit.pop(column, None)
    unit[column] = value if value is not None else "921000000001"
    parsed = UnitInput.model_validate(unit)
    assert _column_key(column) in ALL_COLUMNS  # the CSV reader knows it too
    if column not in VALUES:
        assert parsed.ap_serials == ["921000000001"]


def test_aliases_validate_but_the_schema_and_dumps_keep_the_canonical_name() -> None:
    unit = UnitInput.model_validate(
        {"unit_number": "1", "ap_identifiers": "921000000001;921000000002", "ssid_name": "x"}
    )
    assert unit.ap_serials == ["921000000001", "921000000002"]
    assert "ap_serials" in unit.model_dump() and "ap_identifiers" not in unit.model_dump()
    props = UnitInput.model_json_schema()["properties"]
    assert "ap_serials" in props and "ap_identifiers" not in props
    assert "ap_identifiers" in props["ap_serials"]["description"]


def test_a_unit_giving_its_aps_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="ap_identifiers"):
        UnitInput.model_validate(
            {"unit_number": "1", "ap_identifiers": "921000000001", "ap_serials": [],
             "ssid_name": "x"}
        )  # fmt: skip


def test_text_units_equal_the_files_units(tmp_path) -> None:
    from workflows.inputs.samples import sample_path, sample_text
    from workflows.loaders import load_unit_list

    for name in ("units_48.csv", "units_48.json", "units_per_ap.csv"):
        units, implied = parse_unit_list(sample_text(name), "auto")
        assert units == load_unit_list(sample_path(name)) and implied == {}


def test_errors_read_line_and_column_and_mask_the_secret() -> None:
    text = HEADER + "101,921000000001,Home,ok-passphrase,WPA2,1\n102,921000000002,Two,short,,9\n"
    with pytest.raises(InputError) as caught:
        parse_unit_list(text, "csv")
    assert caught.value.details == [
        "line 3, column 4 (ssid_password): must be 8-63 characters (or 64 hex digits) (got '••••')"
    ]
    assert "short" not in str(caught.value)


def test_readable_positions() -> None:
    assert (
        readable("input_text:3:4 default_vlan: must be")
        == "line 3, column 4 (default_vlan): must be"
    )
    assert readable("input_text:2 units[0].ssid_name: required") == (
        "line 2 (units[0].ssid_name): required"
    )
    assert readable("input_text:5 expected 6 fields") == "line 5: expected 6 fields"
    assert readable("input_text file: is empty") == "input_text: is empty"


def test_a_path_given_as_text_is_parsed_as_text_never_opened() -> None:
    from workflows.inputs.samples import sample_path

    with pytest.raises(InputError) as caught:
        parse_unit_list(str(sample_path("units_48.csv")), "auto")
    assert caught.value.details[0].startswith("line 1 (header):")


def test_formats() -> None:
    with pytest.raises(InputError, match="invalid format"):
        parse_unit_list(HEADER, "cloudpath")
    assert parse_options_text('{"venue": "V", "name_pattern": "1*"}', "auto") == (
        [],
        {"venue": "V", "name_pattern": "1*"},
    )
    with pytest.raises(InputError):
        parse_options_text("venue,V\n", "csv")
