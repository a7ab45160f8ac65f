"""The HTTP guards (rpc.http.SecurityMiddleware and ServeSettings) request by request,
on raw ASGI scopes so every header (a missing Host, odd spacing) is under the test's
control: Host, Origin, bearer token and Content-Length, each with its status and text."""

from __future__ import annotations

import dataclasses
import secrets
import socket
from typing import Any

import pytest

from rpc.http import SecurityMiddleware, ServeSettings, generate_token, is_loopback

pytestmark = pytest.mark.anyio


async def inner(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def call(settings: ServeSettings, headers: dict[str, str]) -> tuple[int, dict, str]:
    app = SecurityMiddleware(inner, settings)
    out: dict[str, Any] = {"headers": {}, "body": b""}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg: dict) -> None:
        if msg["type"] == "http.response.start":
            out["status"] = msg["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in msg["headers"]}
        else:
            out["body"] += msg.get("body", b"")

    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    scope = {"type": "http", "method": "POST", "path": "/rpc", "headers": raw,
             "query_string": b"", "http_version": "1.1"}  # fmt: skip
    await app(scope, receive, send)
    return out["status"], out["headers"], out["body"].decode()


LOCAL = {"host": "127.0.0.1:8765"}


@pytest.mark.parametrize("host", [None, "", "evil.example", "127.0.0.1:bad", "127.0.0.1.nip.io"])
async def test_bad_host_is_421(host: str | None) -> None:
    headers = {} if host is None else {"host": host}
    assert await call(ServeSettings(), headers) == (
        421, {"content-type": "text/plain; charset=utf-8", "content-length": "19"},
        "Invalid Host header",
    )  # fmt: skip


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost", "[::1]:8765", "LOCALHOST"])
async def test_loopback_hosts_pass(host: str) -> None:
    assert (await call(ServeSettings(), {"host": host}))[0] == 200


async def test_origin() -> None:
    s = ServeSettings(allowed_origins=["HTTPS://App.Example/", "https://boX"])
    for origin in ("https://app.example", "https://APP.example/", "http://127.0.0.1:8765",
                   "https://box", "https://BOX/",
                   "https://localhost"):  # fmt: skip
        assert (await call(s, {**LOCAL, "origin": origin}))[0] == 200, origin
    for origin in ("https://evil.example", "file://localhost", "null", "http://[bad",
                   "https://app.example.evil", "/app.example"):  # fmt: skip
        status, _, text = await call(s, {**LOCAL, "origin": origin})
        assert (status, text) == (403, "Origin not allowed"), origin


async def test_token() -> None:
    s = ServeSettings(host="192.0.2.10", token="t0ken")
    host = {"host": "192.0.2.10:8765"}
    for auth in (None, "", "Bearer", "Bearer wrong", "Basic t0ken", "t0ken", "Bearer t0ken x"):
        headers = host if auth is None else {**host, "authorization": auth}
        status, h, text = await call(s, headers)
        assert (status, text) == (401, "Unauthorized"), auth
        assert h["www-authenticate"] == 'Bearer realm="phasegrid"'
    for auth in ("Bearer t0ken", "bearer t0ken", "BEARER  t0ken"):
        assert (await call(s, {**host, "authorization": auth}))[0] == 200, auth


async def test_content_length() -> None:
    s = ServeSettings(max_body=100)
    assert (await call(s, {**LOCAL, "content-length": "100"}))[0] == 200
    assert await call(s, {**LOCAL, "content-length": "101"}) == (
        413, {"content-type": "text/plain; charset=utf-8", "content-length": "22"},
        "Request body too large",
    )  # fmt: skip
    status, _, text = await call(s, {**LOCAL, "content-length": "ten"})
    assert (status, text) == (400, "Invalid Content-Length")


def test_loopback_names() -> None:
    for host in ("localhost", "127.0.0.1", "127.0.0.2", "::1", "[::1]"):
        assert is_loopback(host), host
    for host in (
        "LOCALHOST.example",
        "X127.0.0.1",
        "example.com",
        "0.0.0.0",
        "192.0.2.1",
        "[::2]",
        "",
    ):
        assert not is_loopback(host), host


def test_resolved_keeps_every_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHASEGRID_TOKEN", raising=False)
    s = ServeSettings(host="192.0.2.10", port=9000, token="t", allowed_hosts=["a"],
                      allowed_origins=["https://b"], max_body=7, max_batch=3)  # fmt: skip
    assert dataclasses.asdict(s.resolved()) == dataclasses.asdict(s)
    assert ServeSettings(host="localhost").resolved().token is None
    assert ServeSettings(host="[::1]").resolved().token is None
    generated = ServeSettings(host="example.com").resolved().token
    assert generated and len(generated) == len(secrets.token_urlsafe(32))
    assert len(generate_token()) == len(secrets.token_urlsafe(32))  # 256 bits


def test_host_names() -> None:
    base = {"127.0.0.1", "localhost", "::1"}
    s = ServeSettings(host="[FE80::1]", allowed_hosts=["[FE80::2]", "Box.Example"])
    assert s.host_names() == base | {"fe80::1", "fe80::2", "box.example"}
    me = {socket.gethostname().lower(), socket.getfqdn().lower()}
    for bind in ("0.0.0.0", "::", "[::]", ""):
        assert ServeSettings(host=bind).host_names() == base | me, bind
    assert ServeSettings(host="MyBox").host_names() == base | {"mybox"}
