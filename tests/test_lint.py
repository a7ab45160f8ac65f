"""The tree stays ruff-clean (config in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed with the test extra")
def test_ruff_check_is_clean():
    out = subprocess.run(
        ["ruff", "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout[-4000:]


def test_cli_version():
    out = subprocess.run(["phasegrid", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("phasegrid ")
