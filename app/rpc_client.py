"""A small synchronous JSON-RPC 2.0 client for `phasegrid serve`, and the
CLI exit codes its errors map to."""

from __future__ import annotations

import json
from typing import Any

import httpx

from app.exits import (
    EXIT_AUTH,
    EXIT_CONFLICTS,
    EXIT_DATA,
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
)

EXIT_BY_KIND = {
    "invalid_input": EXIT_DATA,
    "invalid_params": EXIT_DATA,
    "not_found": EXIT_NOT_FOUND,
    "workflow_not_found": EXIT_USAGE,
    "method_not_found": EXIT_USAGE,
    "wrong_state": EXIT_REFUSED,
    "digest_mismatch": EXIT_REFUSED,
    "plan_expired": EXIT_REFUSED,
    "confirmation_required": EXIT_REFUSED,
    "conflicts_present": EXIT_CONFLICTS,
    "redis_unavailable": EXIT_UNAVAILABLE,
}
SETTLED = {"COMPLETED", "PARTIAL", "FAILED", "CANCELLED", "DISCARDED", "EXPIRED", "PAUSED",
           "AWAITING_CONFIRMATION"}  # fmt: skip


class RemoteError(Exception):
    def __init__(self, message: str, *, kind: str, code: int | None = None, data: Any = None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = code
        self.data = data

    @property
    def exit_code(self) -> int:
        if self.kind == "unreachable":
            return EXIT_UNAVAILABLE
        if self.kind == "unauthorized":
            return EXIT_AUTH
        return EXIT_BY_KIND.get(self.kind, EXIT_FAILED)


class RpcClient:
    """A small synchronous JSON-RPC 2.0 client (httpx)."""

    def __init__(self, server: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = server.rstrip("/")
        if not self.url.endswith("/rpc"):
            self.url += "/rpc"
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(headers=headers, timeout=timeout)
        self._id = 0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        self._id += 1
        body = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params or {}}
        try:
            resp = self.http.post(
                self.url,
                content=json.dumps(body),
                timeout=timeout if timeout is not None else self.http.timeout,
            )
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"cannot reach {self.url}: {type(exc).__name__}", kind="unreachable"
            ) from None
        if resp.status_code in (401, 403, 421):
            raise RemoteError(
                f"{self.url}: HTTP {resp.status_code} {resp.text.strip()[:100]}"
                + (" (pass --token or set PHASEGRID_TOKEN)" if resp.status_code == 401 else ""),
                kind="unauthorized",
            )
        if resp.status_code != 200:
            raise RemoteError(f"{self.url}: HTTP {resp.status_code}", kind="http_error")
        try:
            doc = resp.json()
        except ValueError:
            raise RemoteError(f"{self.url}: not a JSON-RPC response", kind="http_error") from None
        if "error" in doc:
            err = doc["error"] or {}
            data = err.get("data") if isinstance(err.get("data"), dict) else {}
            raise RemoteError(
                str(err.get("message", "error")),
                kind=str(data.get("kind", "error")),
                code=err.get("code"),
                data=data,
            )
        return doc.get("result")
