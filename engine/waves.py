"""Waves: run a first group of units, stop at an approval gate, go on only when the
operator confirms again with the same plan digest (the way careful operators roll
out: one floor first, look, then the rest).

The wave is part of the plan (and of its digest). Its rows live in the job's meta
(`wave`, JSON row indexes); `wave_state` says where the job is: '' (running the
wave), 'gate' (the wave ran, waiting for approval), 'approved' (everything runs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.errors import InputError

GATE, APPROVED = "gate", "approved"


class Wave(BaseModel):
    """The first wave: the first `first` units of the input, or the named `units`."""

    model_config = ConfigDict(extra="forbid")

    first: int | None = Field(
        None, ge=1, description="Run the first N units of the input, then stop for approval."
    )
    units: list[str] | None = Field(
        None,
        min_length=1,
        description="Run these unit keys first (e.g. one floor), then stop for approval.",
    )

    @model_validator(mode="after")
    def _one(self) -> Wave:
        if (self.first is None) == (self.units is None):
            raise ValueError("give exactly one of first or units")
        return self

    def rows(self, unit_keys: Sequence[str]) -> list[int]:
        """The wave's row indexes; an InputError names what does not fit the job."""
        if self.first is not None:
            if self.first >= len(unit_keys):
                raise InputError(
                    "wave too large",
                    details=[f"wave.first: {self.first} is not fewer than the job's "
                             f"{len(unit_keys)} units (a wave must leave units for later)"],
                )  # fmt: skip
            return list(range(self.first))
        index = {k: i for i, k in enumerate(unit_keys)}
        unknown = [u for u in self.units or [] if u not in index]
        if unknown:
            raise InputError(
                "unknown wave units",
                details=[f"wave.units: {u!r} is not a unit of this job" for u in unknown[:50]],
            )
        rows = sorted({index[u] for u in self.units or []})
        if len(rows) == len(unit_keys):
            raise InputError("wave too large", details=["wave.units: every unit is in the wave"])
        return rows


def held_rows(meta: Mapping[str, str], n: int) -> frozenset[int]:
    """The rows a run must not start yet: those outside an unapproved wave."""
    raw = meta.get("wave") or ""
    if not raw or meta.get("wave_state") == APPROVED:
        return frozenset()
    wave = set(json.loads(raw))
    return frozenset(r for r in range(n) if r not in wave)
