"""The `phasegrid` command line: one sub-command per module in `app.commands`.

Each command module exposes `add_parser(subparsers)` which registers its
sub-command and sets `func=` to a callable taking the parsed args and
returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from app import __version__
from app.exits import EXIT_USAGE, exit_codes_help

COMMAND_MODULES: tuple[str, ...] = (
    "app.commands.tui",  # `phasegrid` alone, `phasegrid demo`
    "app.commands.plan",  # `phasegrid plan`, `phasegrid run`
    "app.commands.sim",
    "app.commands.serve",  # `phasegrid serve`, `phasegrid mcp`
    "app.commands.worker",  # `phasegrid worker`: headless, scale out
    "app.commands.remote",  # confirm/status/watch/cancel/retry/cleanup/jobs --server
    "app.commands.r1",  # `phasegrid r1 check`
    "app.commands.outputs",  # results, events, handout: a job's outputs
)


def host_port(value: str) -> str:
    _host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return value


class Parser(argparse.ArgumentParser):
    """Usage errors exit 64 (EX_USAGE; argparse's 2 is PARTIAL here) and every
    `--help` ends with the exit code table. Sub-command parsers are of this class
    too (argparse creates them with the parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def format_help(self) -> str:
        return f"{super().format_help()}\n{exit_codes_help()}"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="phasegrid",
        description="Plan, confirm, run and watch bulk rollouts against RUCKUS One.",
    )
    parser.add_argument("--version", action="version", version=f"phasegrid {__version__}")
    parser.add_argument(
        "--redis-url",
        default=None,
        help="Redis to use (default: $PHASEGRID_REDIS_URL, else an embedded server); "
        "the URL of any node of a Redis Cluster uses the whole cluster",
    )
    parser.add_argument(
        "--serve",
        nargs="?",
        const="127.0.0.1:8765",
        default=None,
        metavar="HOST:PORT",
        type=host_port,
        help="with the TUI: also serve /rpc and /mcp (default 127.0.0.1:8765)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a command still being built
            if exc.name != name:
                raise
            continue
        module.add_parser(sub)
        if hasattr(module, "default_command"):
            parser.default_func = module.default_command  # type: ignore[attr-defined]
    return parser


_terminated: list[int] = []


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM shuts down like SIGINT for commands that do not catch it themselves
    (the TUI, `sim`, the remote commands; `run_guarded` and uvicorn do): whoever
    handles SIGINT now handles it, so every `finally` runs: leases are released and
    an embedded Redis this process started is stopped."""
    _terminated.append(signum)
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not _terminate:
        handler(signal.SIGINT, frame)
    else:  # SIGINT ignored (started in the background) or left to the OS
        raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Every command, `--help` included, exits quietly when stdout's reader is gone."""
    try:
        try:
            return _main(argv)
        finally:  # also after --help (SystemExit): a closed pipe shows here, not at exit
            sys.stdout.flush()
    except BaseException as exc:
        if not _broken_pipe(exc):
            raise
        return _closed_stdout()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        default = getattr(parser, "default_func", None)
        if default is None:
            parser.print_help()
            return 0
        func = default
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    _terminated.clear()
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 128 + (_terminated[0] if _terminated else signal.SIGINT)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _broken_pipe(exc: BaseException) -> bool:
    """A BrokenPipeError, alone or as the only errors of (nested) task groups."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_broken_pipe(e) for e in exc.exceptions)
    return isinstance(exc, BrokenPipeError)


def _closed_stdout() -> int:
    """The reader of stdout went away (`phasegrid jobs | head -1`): exit quietly with
    128 + SIGPIPE, as a process the signal stopped. Python's SIGPIPE note: point
    stdout at devnull so the interpreter's last flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
