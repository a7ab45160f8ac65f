"""Typed R1 errors that the engine's retry classification understands.

Every class subclasses both `R1Error` (status, code, message, details) and one
of the engine's `TransientError` / `PermanentError` / `RateLimitedError`, so an
executor can let them propagate and the engine decides retry vs fail-now.
Error bodies come in several shapes (sync `message`/`error`/`errors[0]`, and
activity FAILs whose `error` is JSON inside JSON): `parse_error_payload`
decodes them all and surfaces the innermost sub-error messages.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from engine.errors import PermanentError, RateLimitedError, TransientError

_TRANSIENT_TEXT = re.compile(
    r"internal (server )?error|timed? ?out|please retry|try again|temporar|"
    r"unavailable|too many requests|service busy|gateway",
    re.IGNORECASE,
)


class R1Error(Exception):
    """Mixin carrying R1's error fields; `str()` is safe to show to users."""

    status: int | None
    code: str | None

    def _init_r1(self, status: int | None, code: str | None) -> None:
        self.status = status
        self.code = code

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, details={self.details!r})"  # type: ignore[attr-defined]
        )


class R1PermanentError(R1Error, PermanentError):
    """Retrying cannot help: 4xx (except 408/429), validation FAILs."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: list[str] | None = None,
    ) -> None:
        PermanentError.__init__(self, message, details=details)
        self._init_r1(status, code)


class R1AuthError(R1PermanentError):
    """Credentials rejected (token endpoint 400/401, or 401/403 after a refresh)."""


class R1ConfigError(R1PermanentError):
    """Missing or invalid settings (field names only: inputs may hold secrets)."""


class R1NotFound(R1PermanentError):
    """404 on a resource (callers of get-style helpers may map it to None)."""


class R1TransientError(R1Error, TransientError):
    """Worth retrying: 5xx, 408, network errors, timeouts, transient-looking FAILs."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: list[str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        TransientError.__init__(self, message, details=details, retry_after=retry_after)
        self._init_r1(status, code)


class R1RateLimited(R1Error, RateLimitedError):
    """HTTP 429; `retry_after` holds the server's Retry-After when it sent one."""

    def __init__(
        self,
        message: str = "rate limited (HTTP 429)",
        *,
        status: int | None = 429,
        code: str | None = None,
        details: list[str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        RateLimitedError.__init__(self, message, details=details, retry_after=retry_after)
        self._init_r1(status, code)


class R1ActivityFailed(R1PermanentError):
    """An activity ended FAIL with a validation-style reason."""

    activity_id: str | None = None


class R1ActivityFailedTransient(R1TransientError):
    """An activity ended FAIL with a reason that looks transient (retry the write)."""

    activity_id: str | None = None


# --- payload decoding -------------------------------------------------------


@dataclass
class ErrorInfo:
    """What a (possibly nested) error payload says, innermost first."""

    message: str | None = None
    code: str | None = None
    details: list[str] = field(default_factory=list)
    depth: int = -1

    def offer(self, message: str, depth: int) -> None:
        """Keep the deepest message (the first one at that depth)."""
        if message and depth > self.depth:
            self.message, self.depth = message, depth


def _maybe_json(value: Any) -> Any:
    """Decode JSON-in-a-string (repeatedly); leave anything else alone."""
    for _ in range(8):
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text or text[0] not in '{["':
            return value
        try:
            value = json.loads(text)
        except ValueError:
            return value
    return value


def _walk(value: Any, info: ErrorInfo, depth: int = 0) -> None:
    if depth > 16:
        return
    value = _maybe_json(value)
    if isinstance(value, list):
        for item in value:
            _walk(item, info, depth + 1)
        return
    if isinstance(value, str):
        info.offer(value, depth - 1)  # a bare string ranks below a sibling "message"
        return
    if not isinstance(value, dict):
        return
    code = value.get("code") or value.get("errorCode")
    if code is not None and info.code is None:
        info.code = str(code)
    message = value.get("message") or value.get("error_description") or value.get("reason")
    if isinstance(message, str):
        info.offer(message, depth)
    reason = value.get("reason")
    if isinstance(reason, str) and reason and reason != message:
        info.details.append(reason)
    subs = value.get("subErrors")
    if isinstance(subs, list):
        for sub in subs:
            sub = _maybe_json(sub)
            if isinstance(sub, dict):
                text = sub.get("message") or sub.get("reason")
                where = sub.get("field") or sub.get("object")
                if text:
                    info.details.append(f"{where}: {text}" if where else str(text))
            elif isinstance(sub, str) and sub:
                info.details.append(sub)
    for key in ("errors", "error"):
        if key in value and value[key] not in (None, "", []):
            _walk(value[key], info, depth + 1)


def parse_error_payload(payload: Any) -> ErrorInfo:
    """Decode a sync error body or an activity FAIL `error` (JSON in JSON)."""
    info = ErrorInfo()
    _walk(payload, info, 1)
    return info


def looks_transient(text: str) -> bool:
    """Does an activity FAIL reason read like 'try again later'?"""
    return bool(_TRANSIENT_TEXT.search(text))


def error_for_status(
    status: int,
    payload: Any,
    *,
    retry_after: float | None = None,
    context: str = "",
) -> R1Error:
    """Map an HTTP status and its decoded body to the right typed error."""
    info = parse_error_payload(payload)
    message = info.message or f"HTTP {status}"
    if context:
        message = f"{context}: {message}"
    kwargs: dict[str, Any] = {"status": status, "code": info.code, "details": info.details}
    if status == 429:
        return R1RateLimited(message, retry_after=retry_after, **kwargs)
    if status == 408 or status >= 500:
        return R1TransientError(message, retry_after=retry_after, **kwargs)
    if status == 401:
        return R1AuthError(message, **kwargs)
    if status == 404:
        return R1NotFound(message, **kwargs)
    return R1PermanentError(message, **kwargs)


def error_for_activity(activity_id: str, raw_error: Any) -> R1Error:
    """A FAILed activity -> transient or permanent typed error, innermost message."""
    info = parse_error_payload(raw_error)
    message = info.message or "activity failed"
    text = " ".join([message, *info.details])
    cls = R1ActivityFailedTransient if looks_transient(text) else R1ActivityFailed
    err = cls(f"activity {activity_id} failed: {message}", code=info.code, details=info.details)
    err.activity_id = activity_id
    return err
