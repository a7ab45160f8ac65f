"""`Operation`: one remote operation, declared once for both faces (JSON-RPC and MCP)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from engine import Engine
from rpc.schemas import Params

Handler = Callable[[Engine, Any], Awaitable[BaseModel]]


@dataclass(frozen=True)
class Operation:
    method: str
    """JSON-RPC method name."""
    tool: str
    """MCP tool name."""
    title: str
    description: str
    params: type[Params]
    result: type[BaseModel]
    handler: Handler
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    open_world: bool | None = None
    """Talks to the target (R1); None: derived (everything but pure reads of the store)."""
