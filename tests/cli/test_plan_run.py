"""`phasegrid plan` / `phasegrid run` as a script would use them: real processes,
a private embedded Redis, the in-process simulator, exit codes and --json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.envs import child_env
from workflows.inputs.samples import sample_path

ROOT = Path(__file__).resolve().parents[2]


def phasegrid(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = child_env()
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # a private embedded Redis
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


def test_run_completes_and_prints_one_json_document(data: Path):
    out = phasegrid(
        data, "run", "per_unit_psk", str(sample_path("units_48.csv")),
        "--yes", "--json", "--sim-profile", "instant", "--option", "naming.prefix=cli-",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    doc = json.loads(out.stdout)
    assert doc["status"] == "COMPLETED" and doc["simulated"] is True
    assert doc["units_total"] == 48 and doc["units"]["succeeded"] == 48
    assert doc["resources"]["created"]["network"] == 48
    assert doc["r1_calls"] > 0 and "duration_s" in doc
    assert "SIMULATED" in out.stderr
    assert "Plan: " in out.stderr
    units = json.loads(Path(sample_path("units_48.json")).read_text())
    units = units["units"] if isinstance(units, dict) else units
    passwords = [u["ssid_password"] for u in units if u.get("ssid_password")]
    assert passwords
    for password in passwords:
        assert password not in out.stdout + out.stderr


def test_cloudpath_export_runs_through_the_workflows_loader(data: Path):
    out = phasegrid(
        data, "run", "cloudpath_dpsk", str(sample_path("cloudpath_300.json")),
        "--yes", "--json", "--sim-profile", "instant",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    doc = json.loads(out.stdout)
    assert doc["status"] == "COMPLETED" and doc["units_total"] == 300


def test_plan_leaves_the_job_awaiting_confirmation(data: Path):
    out = phasegrid(data, "plan", "per_unit_dpsk", str(sample_path("units_48.csv")), "--json")
    assert out.returncode == 0, out.stderr[-3000:]
    plan = json.loads(out.stdout)
    assert plan["summary"]["units"] == 48 and plan["summary"]["conflicts"] == 0
    assert len(plan["digest"]) == 32
    assert "ssid_password" not in out.stdout


def test_without_a_terminal_run_needs_yes(data: Path):
    out = phasegrid(data, "run", "per_unit_psk", str(sample_path("units_48.csv")), stdin="")
    assert out.returncode == 1
    assert "pass --yes" in out.stderr


def test_bad_input_names_file_line_and_field(data: Path, tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "unit_number,ap_identifiers,ssid_name,ssid_password,security_type,default_vlan\n"
        "101,921000000001,Unit101,supersecret1,WPA2,5000\n"
    )
    out = phasegrid(data, "run", "per_unit_psk", str(bad), "--yes")
    assert out.returncode == 65
    assert "bad.csv:2:6 default_vlan" in out.stderr
    assert "supersecret1" not in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_workflow_and_bad_option_are_usage_errors(data: Path):
    out = phasegrid(data, "plan", "nope", str(sample_path("units_48.csv")))
    assert out.returncode == 64 and "unknown workflow 'nope'" in out.stderr
    out = phasegrid(data, "plan", "per_unit_psk", str(sample_path("units_48.csv")), "-o", "oops")
    assert out.returncode == 65 and "expected KEY=VALUE" in out.stderr


def test_conflicts_stop_the_run_before_anything_is_written(data: Path):
    # every unit's network in one AP group: 48 SSIDs where R1 broadcasts 15
    out = phasegrid(
        data, "run", "per_unit_psk", str(sample_path("units_48.csv")), "--yes",
        "--option", "naming.ap_group=shared-APG",
    )  # fmt: skip
    assert out.returncode == 3, out.stderr[-2000:]
    assert "conflict" in out.stderr and "nothing was written" in out.stderr
