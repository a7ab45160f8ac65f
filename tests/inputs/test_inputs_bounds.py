"""The documented input limits: a file over MAX_INPUT_BYTES is refused before it is
read, and a unit list over MAX_UNITS_PER_JOB stops at the first unit past the limit
(before building the rest), in every reader and in the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.bounds import MAX_INPUT_BYTES, MAX_UNITS_PER_JOB
from engine.errors import InputError
from tests.envs import child_env
from workflows.inputs import load_units, parse_units_csv, validate_cloudpath
from workflows.inputs.samples import sample_cloudpath_data
from workflows.loaders import load_options_file

ROOT = Path(__file__).resolve().parents[2]
HEADER = "unit_number,ap_identifiers,ssid_name,ssid_password,security_type,default_vlan\n"


def sparse(path: Path, size: int) -> Path:
    """A file of `size` bytes that costs no disk (and would cost minutes to parse)."""
    with path.open("wb") as f:
        f.truncate(size)
    return path


def details(fn, *args, **kwargs) -> list[str]:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    return info.value.details


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    big = sparse(tmp_path / "units.csv", MAX_INPUT_BYTES + 1)
    assert details(load_units, big) == [
        f"units.csv file: too large ({MAX_INPUT_BYTES + 1} bytes; at most {MAX_INPUT_BYTES})"
    ]
    assert "too large" in details(load_units, "x" * (MAX_INPUT_BYTES + 1))[0]
    assert "too large" in details(load_units, b"x" * (MAX_INPUT_BYTES + 1))[0]
    opts = sparse(tmp_path / "opts.json", MAX_INPUT_BYTES + 1)
    assert "larger than" in details(load_options_file, opts)[0]


def test_csv_stops_at_the_first_unit_past_the_limit() -> None:
    rows = (f"{101 + i},,Unit-{i},,WPA2,\n" for i in range(MAX_UNITS_PER_JOB + 1))
    text = HEADER + "".join(rows)
    line = MAX_UNITS_PER_JOB + 2  # the header is line 1
    assert details(parse_units_csv, text) == [
        f"<input>:{line} file: more than {MAX_UNITS_PER_JOB} units"
    ]


def test_json_units_over_the_limit_are_refused_before_validation() -> None:
    units = [{"unit_number": str(i), "ssid_name": "s"} for i in range(MAX_UNITS_PER_JOB + 1)]
    found = details(load_units, json.dumps(units), kind="units")
    assert found == [
        f"<input>:1 $: {MAX_UNITS_PER_JOB + 1} units; at most {MAX_UNITS_PER_JOB} per job"
    ]


def test_cloudpath_export_over_the_limit_is_refused() -> None:
    data = sample_cloudpath_data(1)
    data["dpsks"] = data["dpsks"] * (MAX_UNITS_PER_JOB + 1)  # not even checked one by one
    found = details(validate_cloudpath, data)
    assert found and f"at most {MAX_UNITS_PER_JOB} per job" in found[0]


def test_cli_refuses_an_oversized_input(tmp_path: Path) -> None:
    big = sparse(tmp_path / "units.csv", MAX_INPUT_BYTES + 1)
    env = child_env()
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "plan", "per_unit_dpsk", str(big), "--sim-profile",
         "instant"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert out.returncode == 65, out.stderr[-2000:]
    assert "too large" in out.stderr and str(MAX_INPUT_BYTES) in out.stderr
