"""Shared helpers for the input-parser tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.errors import InputError

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def details_of() -> Callable[..., list[str]]:
    """Call a parser expecting InputError; return its details."""

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[str]:
        with pytest.raises(InputError) as info:
            fn(*args, **kwargs)
        assert info.value.kind == "invalid_input"
        assert info.value.details, "an InputError must say what is wrong"
        return info.value.details

    return run
