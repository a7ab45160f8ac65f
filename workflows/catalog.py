"""Every R1 workflow phasegrid ships, registered in one `Registry`.

Faces reach workflows only through the engine's registry built here.
"""

from __future__ import annotations

from engine import Registry


def build_registry() -> Registry:
    registry = Registry()
    return registry
