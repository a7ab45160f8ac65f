"""Who is calling: the principal recorded on plan, confirm, cancel, retry, discard and
cleanup events.

Local faces (CLI, TUI, MCP over stdio) act as `local:<user>`. A served request acts as
`token:<name>` (the bearer token's name, `phasegrid serve --token-name`), or as
`loopback:<user of the server>` when the server requires no token. The HTTP app sets
it per request (`PrincipalMiddleware`); the operation handlers read it with `current()`.
"""

from __future__ import annotations

import getpass
from contextvars import ContextVar
from typing import Any

_current: ContextVar[str | None] = ContextVar("phasegrid_principal", default=None)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        return "unknown"


def local() -> str:
    """The person at this machine's CLI or TUI."""
    return f"local:{_user()}"


def served(token_name: str | None, token_required: bool) -> str:
    """The principal of every request of a server: its token's name, or loopback."""
    return f"token:{token_name or 'default'}" if token_required else f"loopback:{_user()}"


def current() -> str:
    """The principal of the request being handled (`local:<user>` outside a server)."""
    return _current.get() or local()


class PrincipalMiddleware:
    """Sets the principal for every request (after the token was checked)."""

    def __init__(self, app: Any, principal: str) -> None:
        self.app = app
        self.principal = principal

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        token = _current.set(self.principal)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
