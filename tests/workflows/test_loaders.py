"""Each workflow names its input loader (`extra["load_input"]`) for the faces."""

from __future__ import annotations

import pytest

from engine.errors import InputError
from workflows.catalog import build_registry
from workflows.inputs import CloudpathPassphrase, UnitInput
from workflows.inputs.samples import sample_path


def test_loaders() -> None:
    reg = build_registry()
    units, opts = reg.get("cloudpath_dpsk").extra["load_input"](sample_path("cloudpath_300.json"))
    assert len(units) == 300 and isinstance(units[0], CloudpathPassphrase)
    assert opts["pool"]["display_name"] == "Residents DPSK"
    for name in ("per_unit_psk", "per_unit_dpsk", "ap_lan_ports"):
        loaded = reg.get(name).extra["load_input"](sample_path("units_per_ap.csv"))
        assert isinstance(loaded[0], UnitInput) and len(loaded) == 6
        with pytest.raises(InputError, match="Cloudpath"):
            reg.get(name).extra["load_input"](sample_path("cloudpath_300.json"))


def test_venue_cleanup_reads_an_options_file(tmp_path) -> None:
    load = build_registry().get("venue_cleanup").extra["load_input"]
    path = tmp_path / "opts.json"
    path.write_text('{"name_pattern": "1*-*"}')
    assert load(path) == ([], {"name_pattern": "1*-*"})
    path.write_text("[1]")
    with pytest.raises(InputError):
        load(path)
