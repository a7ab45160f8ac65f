"""The HTTP face: `/rpc` (JSON-RPC 2.0) and `/mcp` (MCP Streamable HTTP) on one
Starlette app, behind one security layer that covers both routes:

- Host header must name this server (loopback names, the bind address, or
  hosts allowed explicitly): defeats DNS rebinding -> 421.
- An `Origin` header, when a browser sends one, must name an allowed host -> 403.
- A bearer token is required whenever the server listens off loopback (and
  whenever one is configured) -> 401.
- Request bodies are capped (413) and JSON-RPC batches are capped.

    async with serve_in_background(engine, "127.0.0.1", 0) as server:
        print(server.url)      # http://127.0.0.1:PORT ; /rpc and /mcp below it
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from engine import Engine
from engine.bounds import MAX_REQUEST_BYTES
from rpc.errors import INTERNAL_ERROR
from rpc.jsonrpc import DEFAULT_MAX_BATCH, JsonRpc, dumps
from rpc.mcp_server import HideTransportEcho, build_mcp
from rpc.principal import PrincipalMiddleware, served

log = logging.getLogger("phasegrid.http")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_BODY = MAX_REQUEST_BYTES
TOKEN_ENV = "PHASEGRID_TOKEN"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def generate_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class ServeSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    """Bearer token; required (generated when missing) off loopback."""
    allowed_hosts: list[str] = field(default_factory=list)
    """Extra Host names clients may use (e.g. a DNS name of this machine)."""
    allowed_origins: list[str] = field(default_factory=list)
    """Extra browser origins (scheme://host[:port]) allowed to call."""
    max_body: int = DEFAULT_MAX_BODY
    max_batch: int = DEFAULT_MAX_BATCH
    token_name: str = "default"
    """The token's name: served requests act as `token:<name>` (events record it)."""

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def resolved(self) -> ServeSettings:
        """Fill the token (env, else generated) when listening off loopback."""
        token = self.token or os.environ.get(TOKEN_ENV) or None
        if token is None and not self.loopback:
            token = generate_token()
        return ServeSettings(
            host=self.host, port=self.port, token=token, allowed_hosts=list(self.allowed_hosts),
            allowed_origins=list(self.allowed_origins), max_body=self.max_body,
            max_batch=self.max_batch, token_name=self.token_name,
        )  # fmt: skip

    def host_names(self) -> set[str]:
        names = {"127.0.0.1", "localhost", "::1"}
        names.update(h.lower().strip("[]") for h in self.allowed_hosts)
        bind = self.host.lower().strip("[]")
        if bind in ("0.0.0.0", "::", ""):
            with contextlib.suppress(OSError):
                names.add(socket.gethostname().lower())
                names.add(socket.getfqdn().lower())
        else:
            names.add(bind)
        return names


def _hostname(value: str) -> str | None:
    """`example.com:8765` / `[::1]:80` -> the name, lower-cased; None if malformed."""
    try:
        parts = urlsplit("//" + value)
        name = parts.hostname
        _ = parts.port  # raises on a bad port
    except ValueError:
        return None
    return name.lower() if name else None


class SecurityMiddleware:
    """Host, Origin, bearer token and body-size checks for every HTTP route."""

    def __init__(self, app: ASGIApp, settings: ServeSettings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = settings.host_names()
        self.origins = {o.rstrip("/").lower() for o in settings.allowed_origins}
        self.token = settings.token.encode() if settings.token else None

    def _origin_ok(self, origin: str) -> bool:
        if origin.rstrip("/").lower() in self.origins:
            return True
        try:  # a malformed origin (e.g. "http://[x") is refused, not a 500
            parts = urlsplit(origin)
            name = parts.hostname
        except ValueError:
            return False
        if parts.scheme not in ("http", "https"):
            return False
        return bool(name) and name.lower() in self.hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = _hostname(headers.get("host", ""))
        if host is None or host not in self.hosts:
            await _plain(421, "Invalid Host header")(scope, receive, send)
            return
        origin = headers.get("origin")
        if origin and not self._origin_ok(origin):
            await _plain(403, "Origin not allowed")(scope, receive, send)
            return
        if self.token is not None:
            auth = headers.get("authorization", "")
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), self.token
            ):
                response = _plain(401, "Unauthorized")
                response.headers["WWW-Authenticate"] = 'Bearer realm="phasegrid"'
                await response(scope, receive, send)
                return
        length = headers.get("content-length")
        if length is not None:
            try:
                too_big = int(length) > self.settings.max_body
            except ValueError:
                await _plain(400, "Invalid Content-Length")(scope, receive, send)
                return
            if too_big:
                await _plain(413, "Request body too large")(scope, receive, send)
                return
        await self.app(scope, receive, send)


# pragma: no mutate block (below: routing, limits and serving; the guards are above)
def _plain(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="text/plain")


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


def build_app(engine: Engine, settings: ServeSettings | None = None) -> Starlette:
    """The Starlette app serving `/rpc` and `/mcp` for `engine` (security included)."""
    settings = (settings or ServeSettings()).resolved()
    rpc = JsonRpc(engine, max_batch=settings.max_batch)
    mcp = build_mcp(engine)
    mcp_app = mcp.streamable_http_app(
        streamable_http_path="/mcp",
        # Host/Origin are checked for every route by SecurityMiddleware.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        max_request_body_size=settings.max_body,
    )

    async def rpc_endpoint(request: Request) -> Response:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return _plain(415, "Content-Type must be application/json")
        try:
            body = await _read_body(request, settings.max_body)
        except _TooLarge:
            return _plain(413, "Request body too large")
        try:
            doc = await rpc.handle(body)
        except Exception:  # never a bare HTTP 500: the client gets a JSON-RPC error
            log.exception("rpc request failed")
            error = {
                "code": INTERNAL_ERROR,
                "message": "Internal error",
                "data": {"kind": "internal"},
            }
            doc = {"jsonrpc": "2.0", "error": error, "id": None}
        if doc is None:
            return Response(status_code=204)
        return Response(dumps(doc), media_type="application/json")

    async def info(request: Request) -> Response:
        return JSONResponse({"name": "phasegrid", "endpoints": ["/rpc", "/mcp"]})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    app = Starlette(
        routes=[
            Route("/rpc", rpc_endpoint, methods=["POST"]),
            Route("/", info, methods=["GET"]),
            *mcp_app.routes,
        ],
        lifespan=lifespan,
    )
    app.add_middleware(HideTransportEcho)
    app.add_middleware(
        PrincipalMiddleware, principal=served(settings.token_name, bool(settings.token))
    )
    app.add_middleware(SecurityMiddleware, settings=settings)
    app.state.settings = settings
    app.state.mcp = mcp
    return app


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, signals: bool) -> None:
        super().__init__(config)
        self._signals = signals

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        if self._signals:
            with super().capture_signals():
                try:
                    yield
                finally:
                    # uvicorn re-raises the signal it shut down on: a SIGTERM would then
                    # kill the process before the engine releases its leases and stops
                    # its embedded Redis. The caller shuts down in order instead.
                    getattr(self, "_captured_signals", []).clear()
        else:  # embedded in another app (the TUI): leave its signal handling alone
            yield


@dataclass
class RunningServer:
    host: str
    port: int
    token: str | None
    server: uvicorn.Server

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True


@contextlib.asynccontextmanager
async def serve_in_background(
    engine: Engine,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    settings: ServeSettings | None = None,
    token: str | None = None,
    signals: bool = False,
    log_level: str = "warning",
) -> AsyncIterator[RunningServer]:
    """Serve `/rpc` and `/mcp` for `engine` while the block runs (port 0: any free port)."""
    base = settings or ServeSettings(host=host, port=port, token=token)
    resolved = base.resolved()
    app = build_app(engine, resolved)
    config = uvicorn.Config(
        app, host=resolved.host, port=resolved.port, log_level=log_level, lifespan="on",
        access_log=False, timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = _Server(config, signals)
    failed = anyio.Event()

    async def run() -> None:
        try:
            await server.serve()
        except SystemExit:  # uvicorn exits when it cannot bind
            failed.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        while not server.started and not failed.is_set():
            await anyio.sleep(0.01)
        if not server.started:
            raise OSError(f"could not listen on {resolved.host}:{resolved.port}")
        bound = _bound_port(server) or resolved.port
        try:
            yield RunningServer(host=resolved.host, port=bound, token=resolved.token, server=server)
        finally:
            server.should_exit = True


def _bound_port(server: uvicorn.Server) -> int | None:
    for s in getattr(server, "servers", []) or []:
        for sock in _sockets(s):
            return int(sock.getsockname()[1])
    return None


def _sockets(s: Any) -> Iterable[Any]:
    return getattr(s, "sockets", None) or []
