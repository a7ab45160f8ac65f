"""Targets: where a job's writes go, fixed when the job is planned.

A job planned against one backend (a real tenant, a simulator URL, one
process's in-process simulator) must never run against another. The engine
knows a target only as an opaque identity and a label: the composition root
(app/runtime.py) builds them from the backend it configured. Credentials are
never part of a target: only what identifies it (tenant id, base URL).
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, Field


class Target(BaseModel):
    """The identity of a backend a job writes to."""

    id: str = Field("", max_length=512)
    """Stable identity, e.g. 'r1:<tenant>@<base url>', 'sim-url:<url>', 'sim-local:<uuid>'."""
    label: str = Field("", max_length=512)
    """What operators read: e.g. 'R1 tenant 1234 (EU)' or 'R1 simulator (http://...)'."""

    @property
    def key(self) -> str:
        """A short key-safe digest of the identity (queue and worker-registry names)."""
        return target_key(self.id)

    def describe(self) -> str:
        return self.label or self.id or "the default target"


def target_key(target_id: str) -> str:
    return hashlib.sha256(target_id.encode()).hexdigest()[:16]
