"""The CLI's exit codes, in one table, and the guard that turns engine errors
into a one-line message on stderr and a code (never a traceback).

0 ok / COMPLETED, 1 FAILED or CANCELLED or refused locally, 2 PARTIAL,
3 plan has conflicts, 4 refused by a server (wrong state, digest, expiry,
confirmation), 5 watch timed out, 64 usage, 65 bad input, 66 not found,
69 Redis / server / backend unavailable, 77 unauthorized.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

import anyio

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL, EXIT_CONFLICTS, EXIT_REFUSED, EXIT_TIMEOUT = 0, 1, 2, 3, 4, 5
EXIT_USAGE, EXIT_DATA, EXIT_NOT_FOUND, EXIT_UNAVAILABLE, EXIT_AUTH = 64, 65, 66, 69, 77

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
        err(f"phasegrid: {exc.message if exc.details else exc}")
        for line in exc.details:
            err(f"  {line}")
        return by_kind.get(exc.kind, EXIT_FAILED)
    except OSError as exc:
        if not os_errors:
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
