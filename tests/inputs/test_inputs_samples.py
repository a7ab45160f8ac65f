"""Shipped samples and the generators behind them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from workflows.inputs import (
    SecurityType,
    load_units,
    parse_cloudpath_json,
    parse_units_csv,
    parse_units_json,
)
from workflows.inputs.samples import (
    SAMPLE_FILES,
    render_samples,
    sample_cloudpath,
    sample_path,
    sample_text,
    sample_units,
    write_cloudpath_json,
    write_units_csv,
    write_units_json,
)


def test_samples_are_package_resources_and_up_to_date() -> None:
    folder = resources.files("workflows.inputs.samples")
    rendered = render_samples()
    assert sorted(rendered) == sorted(SAMPLE_FILES)
    for name, text in rendered.items():
        assert folder.joinpath(name).is_file()
        assert sample_text(name) == text, f"{name} is stale: run samples.regenerate()"


def test_units_48_shape() -> None:
    units = parse_units_csv(sample_text("units_48.csv"), source_name="units_48.csv")
    assert len(units) == 48
    assert units == sample_units(48)
    assert [u.default_vlan for u in units] == list(range(101, 149))
    assert units[0].ap_serials == ["921000000001", "921000000002"]
    assert units[-1].ap_serials == ["921000000095", "921000000096"]
    assert {u.security_type for u in units} == set(SecurityType) - {SecurityType.WPA3}
    assert {u.security_type for u in sample_units(4, dpsk=False)} == set(SecurityType)
    assert all(u.ssid_password is not None for u in units)
    assert load_units(sample_path("units_48.json")) == units  # type: ignore[arg-type]


def test_per_ap_and_cloudpath_samples() -> None:
    per_ap = load_units(sample_path("units_per_ap.csv"))  # type: ignore[arg-type]
    assert per_ap == sample_units(6, seed=1)
    export = parse_cloudpath_json(sample_text("cloudpath_300.json"))
    assert export == sample_cloudpath(300)
    assert len(export.dpsks) == 300 and export.pool is not None


def test_generators_are_deterministic_and_scale() -> None:
    assert sample_units(100, seed=3) == sample_units(100, seed=3)
    assert sample_units(5, seed=1) != sample_units(5, seed=2)
    big = sample_units(10_000, aps_per_unit=1)
    assert len({u.ap_serials[0] for u in big}) == 10_000
    assert all(1 <= (u.default_vlan or 0) <= 4094 for u in big)
    dpsk = sample_units(3, with_passwords=False)
    assert all(u.ssid_password is None for u in dpsk)


def test_round_trip_through_files(tmp_path: Path) -> None:
    units = sample_units(100, seed=7, aps_per_unit=3)
    assert parse_units_csv(write_units_csv(tmp_path / "u.csv", units)) == units
    assert parse_units_csv(write_units_csv(tmp_path / "p.csv", units, one_ap_per_row=True)) == units
    assert parse_units_json(write_units_json(tmp_path / "u.json", units)) == units
    export = sample_cloudpath(500, seed=7)
    assert parse_cloudpath_json(write_cloudpath_json(tmp_path / "c.json", export)) == export
