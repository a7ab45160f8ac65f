"""Every request of three real runs, recorded by `phasegrid sim --record` in
another process, validates against R1's documents.

The runs: 48-unit `per_unit_dpsk` (WPA2 and WPA2/WPA3 units), `per_unit_psk`
with WPA2, WPA3 and WPA2/WPA3 units, and the 300-passphrase `cloudpath_dpsk`
sample. The simulator runs with its guard off, so the recording is everything
the client sent, judged here on its own (secrets are masked to their length).
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engine.redis_server import EmbeddedRedis
from tests.cli.test_target_binding import env_for
from workflows.r1.contract.validate import Contract

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "workflows" / "inputs" / "samples"


@pytest.fixture
def recording(tmp_path: Path):
    """A `phasegrid sim` process recording to a file; yields (url, file, env)."""
    record = tmp_path / "requests.jsonl"
    serials = sorted({
        s for row in csv.DictReader((SAMPLES / "units_48.csv").open())
        for s in row["ap_identifiers"].split(";") if s
    })  # fmt: skip
    server = EmbeddedRedis(tmp_path / "redis")
    redis_url = server.start()
    env = env_for(redis_url, tmp_path / "data")
    sim = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "sim", "--port", "0", "--profile", "instant",
         "--contract", "off", "--record", str(record),
         "--extra-ap-serials", ",".join(serials)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = sim.stdout.readline() if sim.stdout else ""
        match = re.search(r"http://[\w.\[\]:]+", first)
        assert match, f"sim did not start: {first!r} {sim.stderr.read() if sim.stderr else ''}"
        yield match.group(0), record, env
    finally:
        sim.terminate()
        sim.wait(timeout=30)
        server.stop(force=True)


def _run(env: dict[str, str], url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", *args, "--sim-url", url, "--yes"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _psk_units(tmp_path: Path) -> Path:
    rows = list(csv.DictReader((SAMPLES / "units_48.csv").open()))[:12]
    kinds = ["WPA2", "WPA3", "WPA2/WPA3"]
    out = tmp_path / "psk_units.csv"
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for i, row in enumerate(rows):
            unit = f"9{row['unit_number']}"  # new names: the DPSK run's networks exist
            writer.writerow(
                {
                    **row,
                    "unit_number": unit,
                    "ssid_name": f"Psk-{unit}",
                    "security_type": kinds[i % 3],
                }
            )
    return out


def _dpsk_units(tmp_path: Path) -> Path:
    """The 48-unit sample without WPA3 (a DPSK network cannot be WPA3)."""
    rows = list(csv.DictReader((SAMPLES / "units_48.csv").open()))
    out = tmp_path / "dpsk_units.csv"
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            kind = "WPA2" if row["security_type"] == "WPA3" else row["security_type"]
            writer.writerow({**row, "security_type": kind})
    return out


def test_recorded_requests_of_three_runs_validate_against_the_documents(recording, tmp_path):
    url, record, env = recording
    _run(env, url, "per_unit_dpsk", str(_dpsk_units(tmp_path)))
    _run(env, url, "per_unit_psk", str(_psk_units(tmp_path)))
    _run(env, url, "cloudpath_dpsk", str(SAMPLES / "cloudpath_300.json"))

    contract = Contract.load()
    entries = [json.loads(line) for line in record.read_text().splitlines()]
    operations: Counter[str] = Counter()
    problems = []
    for entry in entries:
        query = entry["query"]
        found = contract.check_request(
            entry["method"], entry["path"], query, entry["content_type"], entry["body"]
        )
        operations[contract.operation(entry["method"], entry["path"]) or "?"] += 1
        problems += [v.text() for v in found]
    assert not problems, f"{len(problems)} violations, e.g.:\n" + "\n".join(problems[:20])
    # the recording is the runs' traffic, not a handful of reads
    assert operations["POST /wifiNetworks"] >= 48 + 12
    assert operations["POST /identityGroups/{identityGroupId}/dpskServices"] >= 48
    securities = {
        e["body"]["wlan"].get("wlanSecurity")
        for e in entries if e["method"] == "POST" and e["path"] == "/wifiNetworks"
    }  # fmt: skip
    assert {"WPA2Personal", "WPA3", "WPA23Mixed"} <= securities
