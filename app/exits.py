"""The CLI's exit codes, in one table (`EXIT_CODES`, which `--help` prints), and the
guard that turns engine errors into a one-line message on stderr and a code (never
a traceback)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

import anyio

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL, EXIT_CONFLICTS, EXIT_REFUSED, EXIT_TIMEOUT = 0, 1, 2, 3, 4, 5
EXIT_USAGE, EXIT_DATA, EXIT_NOT_FOUND, EXIT_UNAVAILABLE, EXIT_AUTH = 64, 65, 66, 69, 77

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "ok / COMPLETED",
    EXIT_FAILED: "FAILED or CANCELLED, or refused locally",
    EXIT_PARTIAL: "PARTIAL (some units failed)",
    EXIT_CONFLICTS: "the plan has conflicts",
    EXIT_REFUSED: "refused by a server (wrong state, digest, expiry, confirmation)",
    EXIT_TIMEOUT: "watch timed out",
    EXIT_USAGE: "usage error (bad command line)",
    EXIT_DATA: "bad input (units file, --option)",
    EXIT_NOT_FOUND: "not found",
    EXIT_UNAVAILABLE: "Redis, server or backend unavailable",
    EXIT_AUTH: "unauthorized",
}
"""The one declaration of what each exit code means."""


def exit_codes_help() -> str:
    """The exit code table as `--help` prints it."""
    return "exit codes:\n" + "".join(f"  {code:>3}  {what}\n" for code, what in EXIT_CODES.items())


EXIT_BY_STATUS: dict[str, int] = {
    "COMPLETED": EXIT_OK,
    "PARTIAL": EXIT_PARTIAL,
    "FAILED": EXIT_FAILED,
    "CANCELLED": EXIT_FAILED,
    "DISCARDED": EXIT_FAILED,
    "EXPIRED": EXIT_FAILED,
}

LOCAL_EXIT_BY_KIND: dict[str, int] = {
    "workflow_not_found": EXIT_USAGE,
    "invalid_input": EXIT_DATA,
    "redis_unavailable": EXIT_UNAVAILABLE,
}
"""Engine error kinds raised in this process; any other engine error exits 1."""


def err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _sole(exc: BaseException) -> BaseException:
    """The one error inside nested task-group wrappers (each holding exactly one), else
    `exc`: an input error raised inside `open_runtime` arrives wrapped twice."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _report(exc: Any, by_kind: Mapping[str, int]) -> int:
    """One line for an error with at most one detail; a header and one line each
    otherwise. `str()` of a PhasegridError is safe to show (no secret, no URL)."""
    if len(exc.details) <= 1:
        err(f"phasegrid: {exc}")
    else:
        err(f"phasegrid: {exc.message}")
        for line in exc.details:
            err(f"  {line}")
    return by_kind.get(exc.kind, EXIT_FAILED)


def run_guarded(
    body: Callable[..., Any],
    *args: Any,
    by_kind: Mapping[str, int] = LOCAL_EXIT_BY_KIND,
    os_errors: bool = False,
    signals: bool = True,
) -> int:
    """`anyio.run(body, *args)`; engine errors (and, if asked, OS errors) become codes.

    With `signals`, SIGTERM and SIGINT stop the body (see `_stoppable`).
    """
    from engine.backoff import store_unavailable
    from engine.errors import PhasegridError

    try:
        with store_unavailable():
            if not signals:
                return int(anyio.run(body, *args) or 0)
            return int(anyio.run(_stoppable, body, *args) or 0)
    except PhasegridError as exc:
        return _report(exc, by_kind)
    except BaseExceptionGroup as group:
        sole = _sole(group)
        if isinstance(sole, PhasegridError):
            return _report(sole, by_kind)
        if isinstance(sole, OSError) and os_errors and not isinstance(sole, BrokenPipeError):
            err(f"phasegrid: {sole}")
            return EXIT_UNAVAILABLE
        raise
    except OSError as exc:
        if not os_errors or isinstance(exc, BrokenPipeError):  # a closed stdout: see app.cli
            raise
        err(f"phasegrid: {exc}")
        return EXIT_UNAVAILABLE


async def _stoppable(body: Callable[..., Any], *args: Any) -> Any:
    """Run `body`; SIGTERM and SIGINT stop it alike, through a cancel scope.

    Scope cancellation is level-triggered: no library can swallow it (a single
    task cancel can be), so every cleanup runs: the worker releases its leases
    and an embedded Redis this process started is stopped. Returns 128 + signal.
    """
    if threading.current_thread() is not threading.main_thread():
        return await body(*args)
    signalled: list[int] = []
    failure: Exception | None = None
    result: Any = None
    async with anyio.create_task_group() as tg:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for signum in signals:
                    signalled.append(signum)
                    tg.cancel_scope.cancel()

        tg.start_soon(stop_on_signal)
        try:
            result = await body(*args)
        except Exception as exc:  # raised as is below, not wrapped in a group
            failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return 128 + signalled[0] if signalled else result
