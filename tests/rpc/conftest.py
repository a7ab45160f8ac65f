"""Fixtures for the RPC/MCP faces: an engine on the real test Redis with the
synthetic registry, the HTTP app in-process (ASGI) or on a real loopback port."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine import Engine, EngineConfig
from rpc.http import RunningServer, ServeSettings, build_app, serve_in_background
from tests.rpc.workflows import build_registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def engine(redis, prefix: str) -> AsyncIterator[Engine]:
    eng = Engine(redis, build_registry(), EngineConfig(prefix=prefix), seed=1)
    async with eng.running(worker=True):
        yield eng


@pytest.fixture
async def asgi(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """JSON-RPC through the real app (security layer included), no socket."""
    app = build_app(engine, ServeSettings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as c:
        yield c


@pytest.fixture
async def server(engine: Engine) -> AsyncIterator[RunningServer]:
    async with serve_in_background(engine, "127.0.0.1", 0) as srv:
        yield srv


class Rpc:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.n = 0

    async def raw(self, body: Any, **kw: Any) -> httpx.Response:
        return await self.client.post("/rpc", json=body, **kw)

    async def call(self, method: str, params: Any = None) -> Any:
        self.n += 1
        body = {"jsonrpc": "2.0", "id": self.n, "method": method}
        if params is not None:
            body["params"] = params
        resp = await self.raw(body)
        assert resp.status_code == 200, resp.text
        doc = resp.json()
        if "error" in doc:
            raise RpcError(doc["error"])
        return doc["result"]


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.error = error
        self.code = error["code"]
        self.kind = (error.get("data") or {}).get("kind")


@pytest.fixture
def rpc(asgi: httpx.AsyncClient) -> Rpc:
    return Rpc(asgi)


def units(*names: str, **kw: Any) -> list[dict[str, Any]]:
    return [{"name": n, **kw} for n in names]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PHASEGRID_TOKEN", None)
    env.update(extra)
    return env


def phasegrid_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]
