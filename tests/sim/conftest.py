"""Simulator tests run on anyio/asyncio; the simulator fixtures come from
tests/fixtures_sim.py (registered in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
