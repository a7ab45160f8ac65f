"""The documented limits on what one input, request or job may cost (README "Limits").

One place for every face: the engine refuses a job over `MAX_UNITS_PER_JOB`
or a plan over `MAX_PLAN_BYTES`; the input readers, the CLI and the HTTP face
check the others before they parse, so a small request cannot make large work.
"""

from __future__ import annotations

import re
from typing import Any

from engine.errors import InputError

MiB = 1024 * 1024

MAX_UNITS_PER_JOB = 100_000
"""Units in one job (a 100,000-passphrase Cloudpath export is one job)."""

MAX_INPUT_BYTES = 32 * MiB
"""An input file (CSV, unit JSON, Cloudpath export): 100,000 units is about 7 MB
of unit CSV and 28 MB of Cloudpath export."""

MAX_REQUEST_BYTES = 32 * MiB
"""A request body on /rpc and /mcp (HTTP 413 above it): room for any input file."""

MAX_JSON_DEPTH = 64
"""Nesting of a JSON-RPC / MCP request document (a job needs fewer than 10 levels)."""

MAX_PLAN_BYTES = 256 * MiB
"""A stored plan (about 1.1 KB per per_unit_dpsk unit: 110 MB for 100,000 units)."""

MAX_OFFSET = 1_000_000_000
"""Paging offsets (units, jobs)."""

STREAM_ID_PART_MAX = 2**64 - 1
"""Each part of an event cursor `<ms>-<seq>` (a Redis stream id) is a 64-bit unsigned int."""
_CONTAINERS = (dict, list)
_STREAM_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")


def check_units(count: int) -> None:
    """A job of more than `MAX_UNITS_PER_JOB` units is refused before any work."""
    if count > MAX_UNITS_PER_JOB:
        raise InputError(
            "too many units",
            details=[f"units: {count} units; at most {MAX_UNITS_PER_JOB} per job"],
        )


def check_plan_bytes(size: int) -> None:
    if size > MAX_PLAN_BYTES:
        raise InputError(
            "plan too large",
            details=[f"plan: {size} bytes; at most {MAX_PLAN_BYTES} (fewer units per job)"],
        )


def stream_id_ok(cursor: str) -> bool:
    """`<ms>-<seq>`, each part below 2^64, and not the largest id (nothing can follow it)."""
    m = _STREAM_ID.fullmatch(cursor)
    if m is None:
        return False
    ms, seq = int(m[1]), int(m[2])
    top = STREAM_ID_PART_MAX
    return ms <= top and seq <= top and (ms, seq) != (top, top)


def too_deep(doc: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does `doc` nest containers more than `limit` levels? Level by level, no recursion,
    and about a second for a 32 MiB body of tiny containers."""
    level = [doc] if type(doc) in _CONTAINERS else []
    depth = len(level)
    while level:
        deeper, seen = [], False
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) in _CONTAINERS:
                    seen = True
                    if child:
                        deeper.append(child)
        depth += seen
        if depth > limit:
            return True
        level = deeper
    return False
