"""Project-level checks: a ruff-clean tree and the `phasegrid` entry point."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_is_clean():
    out = subprocess.run(
        ["ruff", "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout[-4000:]


def test_cli_version():
    out = subprocess.run(["phasegrid", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("phasegrid ")


def test_serve_flag_takes_host_and_port():
    from app.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["--serve"]).serve == "127.0.0.1:8765"
    assert parser.parse_args(["tui", "--serve", "0.0.0.0:9000"]).serve == "0.0.0.0:9000"
    assert parser.parse_args(["--serve", "127.0.0.1:1", "demo"]).serve == "127.0.0.1:1"
    with pytest.raises(SystemExit):
        parser.parse_args(["--serve", "tui"])
