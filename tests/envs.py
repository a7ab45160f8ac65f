"""The environment for phasegrid child processes in tests."""

from __future__ import annotations

import os

KEEP = ("PHASEGRID_SIM_CONTRACT", "PHASEGRID_SIM_CONTRACT_LOG")
"""Kept although they start with PHASEGRID: every simulator a test starts, in any
process, is held to R1's contract and logs violations where the suite looks."""


def child_env(strip: tuple[str, ...] = ("PHASEGRID", "R1_"), **extra: str) -> dict[str, str]:
    """os.environ without the phasegrid/R1 settings of the developer's shell (a test
    says what it wants), but with the contract guard's settings, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if k in KEEP or not k.startswith(strip)}
    return {**base, **extra}
