"""Helpers for driving the app: wait for conditions (no fixed sleeps) and read
the screen as text."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def screen_text(app: Any) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


async def wait_for(pilot: Any, cond: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {cond}\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)
