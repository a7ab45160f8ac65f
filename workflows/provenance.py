"""Who made a resource: the evidence behind a ledger entry's action.

Cleanup deletes only "created" entries, so "created" needs evidence that this
job's call made the resource:

1. our create was accepted and its activity succeeded (or the id came back);
2. R1 answers with the resource carrying this job's tag, a line phasegrid
   writes into a documented free-text field on create (`description` of AP
   groups, Wi-Fi networks and identity groups). Found without it, the resource
   is someone else's: "reused".

Where R1 has no field to write (DPSK pools, passphrases, activations, pool
bindings, AP moves), something found on the cell's first try existed before
("reused"); found on a retry or after a resume, our earlier call may have made
it: "unknown", which cleanup never deletes. Never inferred from attempt counts.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

Action = Literal["created", "reused", "unknown"]

TAG_PREFIX = "phasegrid job "
TAG_FIELDS: dict[str, tuple[str, int]] = {
    "ap_group": ("description", 180),  # wifi_api ApGroup.description: 2-180 chars
    "network": ("description", 256),  # wifi_api Psk/DpskWifiNetwork.description: 0-256
    "identity_group": ("description", 255),  # identity_management IdentityGroup: <= 255
}
"""Resource kind -> (R1 field phasegrid writes its tag into, the documented max length)."""
MAX_ID = 40
"""Longer (or odd) job ids are tagged by digest, so every tag fits every field."""


def job_tag(job_id: str) -> str:
    """The text phasegrid writes into a resource it creates for `job_id`."""
    if len(job_id) <= MAX_ID and re.fullmatch(r"[\w.:-]+", job_id):
        return TAG_PREFIX + job_id
    return TAG_PREFIX + "#" + hashlib.sha256(job_id.encode()).hexdigest()[:32]


def taggable(kind: str) -> bool:
    return kind in TAG_FIELDS


def field_text(resource: Any, kind: str) -> str:
    """The tag field's text as R1 answered it (model attribute, extra field or dict)."""
    name = TAG_FIELDS[kind][0]
    if isinstance(resource, dict):
        value = resource.get(name)
    else:
        value = getattr(resource, name, None)
        if value is None:
            value = (getattr(resource, "model_extra", None) or {}).get(name)
    return value if isinstance(value, str) else ""


def carries_tag(resource: Any, kind: str, job_id: str) -> bool:
    """True if R1's answer shows `job_id`'s tag (a whole token, not a prefix of another)."""
    tag = re.escape(job_tag(job_id))
    return re.search(rf"(?<!\S){tag}(?!\S)", field_text(resource, kind)) is not None


def found_action(ctx: Any, kind: str, resource: Any) -> Action:
    """The action for a resource a phase found (rather than created) just now."""
    if taggable(kind):
        return "created" if carries_tag(resource, kind, ctx.job_id) else "reused"
    return untagged_action(ctx)


def untagged_action(ctx: Any) -> Action:
    """Found, and R1 cannot tell whose it is: first try -> it predates us."""
    return "reused" if ctx.first_try else "unknown"
