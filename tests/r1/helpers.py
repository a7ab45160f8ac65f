"""Test helpers for the R1 client: a scriptable mock R1, a fake sleep, configs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from workflows.r1 import R1Config, RetryPolicy

SECRET = "s3cr3t-client-secret-value"
TOKEN_PREFIX = "tok-abcdef-"


class Sleeps:
    """A fake sleep: records requested delays, returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


Handler = Callable[[httpx.Request], httpx.Response]


class MockR1:
    """A tiny scriptable R1: a token endpoint plus per-route handlers or queued replies."""

    def __init__(self, *, ttl: float = 3600) -> None:
        self.ttl = ttl
        self.requests: list[httpx.Request] = []
        self.tokens_issued: list[str] = []
        self.valid_tokens: set[str] = set()
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.queued: dict[tuple[str, str], list[httpx.Response | Exception]] = {}

    def on(self, method: str, path: str, handler: Handler) -> None:
        self.handlers[(method, path)] = handler

    def queue(self, method: str, path: str, *replies: httpx.Response | Exception) -> None:
        self.queued.setdefault((method, path), []).extend(replies)

    def revoke_all(self) -> None:
        self.valid_tokens.clear()

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if request.url.path.startswith("/oauth2/token/"):
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            if form.get("client_secret") != SECRET:
                return httpx.Response(401, json={"error": "invalid_client"})
            token = f"{TOKEN_PREFIX}{len(self.tokens_issued)}"
            self.tokens_issued.append(token)
            self.valid_tokens.add(token)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": self.ttl}
            )
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid_tokens:
            return httpx.Response(401, json={"message": "Unauthorized"})
        replies = self.queued.get(key)
        if replies:
            reply = replies.pop(0)
            if isinstance(reply, Exception):
                raise reply
            return reply
        handler = self.handlers.get(key)
        if handler is None:
            return httpx.Response(404, json={"message": f"no route {key}"})
        return handler(request)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def make_config(**overrides: Any) -> R1Config:
    data: dict[str, Any] = {
        "client_id": "cid",
        "client_secret": SECRET,
        "tenant_id": "tenant-1",
        "base_url": "https://r1.test",
        "retry": RetryPolicy(attempts=4, base=0.5, cap=8.0),
    }
    data.update(overrides)
    return R1Config(**data)
