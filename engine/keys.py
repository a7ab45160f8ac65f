"""Redis key names, and how fields and values are spelt in them. Every key of one
job shares the hash tag `{job:<id>}`, so multi-key scripts and transactions work
on Redis Cluster too. A tenant's rate limiter state shares the tag `{rl:<tenant>}`
(one hash per service family)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

GLOBAL_ROW = "g"
"""Row name of a job's global (once per job) cells; a unit's row name is its index."""
UNITS = "units"
"""Scope of the per-unit roll-up counts (`counts_field(UNITS, unit_state)`)."""


def cell_field(row: int | str, phase_id: str) -> str:
    """Field of a cell in a job's cells and attempts hashes: '<row name>|<phase id>'."""
    return f"{row}|{phase_id}"


def split_cell_field(field: str) -> tuple[str, str]:
    """(row name, phase id) of a `cell_field` (phase ids never contain '|')."""
    row, phase_id = field.split("|", 1)
    return row, phase_id


def counts_field(scope: str, state: str) -> str:
    """Field of a job's counts hash: '<phase id>|<cell state>' or 'units|<unit state>'."""
    return f"{scope}|{state}"


def encode_value(value: Any) -> str | int | float:
    """A hash value (a meta field, a counter): numbers and strings as they are, None
    as '', booleans as '1'/'0', models and anything else as compact JSON."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if hasattr(value, "model_dump_json"):
        return value.model_dump_json()
    return json.dumps(value, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class JobKeys:
    prefix: str
    job_id: str

    def _k(self, name: str) -> str:
        return f"{self.prefix}:{{job:{self.job_id}}}:{name}"

    @property
    def meta(self) -> str:
        """Hash: status, workflow, timestamps, digest, counters."""
        return self._k("meta")

    @property
    def plan(self) -> str:
        """String: the plan document (JSON)."""
        return self._k("plan")

    @property
    def unit_keys(self) -> str:
        """List: unit keys in input order (index = unit index)."""
        return self._k("unitkeys")

    @property
    def inputs(self) -> str:
        """Hash: unit index -> unit input JSON (secrets included until purged)."""
        return self._k("inputs")

    @property
    def cells(self) -> str:
        """Hash: `cell_field` (unit index or 'g', phase id) -> CellRecord JSON."""
        return self._k("cells")

    @property
    def values(self) -> str:
        """Hash: unit index or 'g' -> resolved values JSON."""
        return self._k("values")

    @property
    def attempts(self) -> str:
        """Hash: `cell_field` -> list of Attempt JSON."""
        return self._k("attempts")

    @property
    def counts(self) -> str:
        """Hash: `counts_field` ('phase|state' and 'units|state') -> count."""
        return self._k("counts")

    @property
    def events(self) -> str:
        """Stream: typed events; entry ids are the cursors."""
        return self._k("events")

    @property
    def ledger(self) -> str:
        """List: LedgerEntry JSON in creation order."""
        return self._k("ledger")

    @property
    def lease(self) -> str:
        """String: worker id holding the job; with TTL, renewed by heartbeat."""
        return self._k("lease")

    @property
    def fence(self) -> str:
        """Counter: fencing token, bumped on every claim."""
        return self._k("fence")

    @property
    def planner(self) -> str:
        """String: id of the process planning the job; with TTL, renewed while planning."""
        return self._k("planner")

    def all(self) -> list[str]:
        return [
            self.meta,
            self.plan,
            self.unit_keys,
            self.inputs,
            self.cells,
            self.values,
            self.attempts,
            self.counts,
            self.events,
            self.ledger,
            self.lease,
            self.fence,
        ]


@dataclass(frozen=True)
class GlobalKeys:
    prefix: str

    @property
    def jobs(self) -> str:
        """Sorted set: job id by creation time."""
        return f"{self.prefix}:jobs"

    def queue(self, target_key: str) -> str:
        """List: confirmed job ids of one target waiting for a worker of that target."""
        return f"{self.prefix}:queue:{target_key}"

    def workers(self, target_key: str) -> str:
        """Sorted set: live workers of one target, scored by when their claim expires (ms)."""
        return f"{self.prefix}:workers:{target_key}"

    @property
    def active(self) -> str:
        """Set: job ids QUEUED or RUNNING (for crash recovery)."""
        return f"{self.prefix}:active"

    @property
    def planning(self) -> str:
        """Set: job ids created PLANNING (for reaping those whose planner died)."""
        return f"{self.prefix}:planning"

    def rate_limit(self, tenant: str, family: str) -> str:
        """Hash: the shared limiter of one tenant and R1 service family (GCRA state,
        adaptive rate, counters); see `engine.tenant_limit`. Braces in the tenant
        are replaced so the hash tag stays the whole tenant."""
        return f"{self.prefix}:{{rl:{_untagged(tenant)}}}:{_untagged(family)}"

    @property
    def rate_limits(self) -> str:
        """Set: JSON [tenant, family] of every shared limiter (for `phasegrid status`)."""
        return f"{self.prefix}:ratelimits"

    def job(self, job_id: str) -> JobKeys:
        return JobKeys(self.prefix, job_id)


def _untagged(text: str) -> str:
    """`text` without braces, which would move a key's Redis Cluster hash tag."""
    return text.replace("{", "(").replace("}", ")")
