"""The `phasegrid` process's exit codes and error output, through the installed entry
point: input errors are one line with code 65, usage errors exit 64 (not 2, which
is PARTIAL), `--help` lists the codes of `app.exits.EXIT_CODES`, and a reader that
closes stdout early ends the command quietly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.exits import EXIT_CODES, EXIT_DATA, EXIT_PARTIAL, EXIT_USAGE
from tests.envs import child_env
from workflows.inputs.samples import sample_path

ROOT = Path(__file__).resolve().parents[2]
PHASEGRID = Path(sys.executable).parent / "phasegrid"
"""The console script pip installed (`app.cli:main`); PYTHONPATH makes it run this tree."""


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return child_env(XDG_DATA_HOME=str(tmp_path / "data"), PYTHONPATH=str(ROOT), **extra)


def phasegrid(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PHASEGRID), *argv],
        cwd=ROOT, env=env(tmp_path), capture_output=True, text=True, timeout=240,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("option", "named", "wrong"),
    [
        ("nosuchkey=1", "nosuchkey", "not permitted"),
        ("passphrases.length=abc", "passphrases.length", "valid integer"),
    ],
)
def test_a_bad_option_is_one_line_naming_it_and_exits_65(
    tmp_path: Path, option: str, named: str, wrong: str
) -> None:
    units = str(sample_path("units_48.csv"))
    out = phasegrid(tmp_path, "plan", "per_unit_dpsk", units, "-o", option)
    assert out.returncode == EXIT_DATA, out.stderr[-3000:]
    errors = [line for line in out.stderr.splitlines() if line.startswith("phasegrid:")]
    assert len(errors) == 1, out.stderr[-3000:]
    assert named in errors[0] and wrong in errors[0], errors
    assert "Traceback" not in out.stderr and "pydantic.dev" not in out.stderr
    assert len(out.stderr.splitlines()) <= 3, out.stderr  # SIMULATED, target, the error


def test_a_usage_error_exits_64_with_the_usage(tmp_path: Path) -> None:
    out = phasegrid(tmp_path, "plan", "--no-such-flag")
    assert out.returncode == EXIT_USAGE != EXIT_PARTIAL, out.stderr
    assert out.stderr.startswith("usage: phasegrid plan")
    assert "phasegrid plan: error: " in out.stderr
    assert phasegrid(tmp_path, "no-such-command").returncode == EXIT_USAGE


@pytest.mark.parametrize("argv", [(), ("plan",), ("jobs",), ("r1", "check")])
def test_help_lists_every_exit_code(tmp_path: Path, argv: tuple[str, ...]) -> None:
    out = phasegrid(tmp_path, *argv, "--help")
    assert out.returncode == 0, out.stderr
    listed = dict(re.findall(r"^\s+(\d+)\s+(\S.*)$", out.stdout.split("exit codes:")[-1], re.M))
    assert {int(code): what for code, what in listed.items()} == EXIT_CODES


def test_jobs_into_a_closed_pipe_exits_quietly(tmp_path: Path, redis_url: str) -> None:
    serve = subprocess.Popen(
        [str(PHASEGRID), "serve", "--port", "0"],
        cwd=ROOT, env=env(tmp_path, PHASEGRID_REDIS_URL=redis_url),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        line = serve.stdout.readline() if serve.stdout else ""
        match = re.search(r"phasegrid serve: (http://\S+)/rpc", line)
        assert match, f"serve did not start: {line!r}"
        read, write = os.pipe()
        os.close(read)  # the reader is gone before the first line (`| head -0`)
        try:
            out = subprocess.run(
                [str(PHASEGRID), "jobs", "--server", match.group(1)],
                cwd=ROOT, env=env(tmp_path), stdout=write, stderr=subprocess.PIPE,
                text=True, timeout=120,
            )  # fmt: skip
        finally:
            os.close(write)
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=60)
    assert out.stderr == "", out.stderr[-3000:]
    assert out.returncode == 128 + signal.SIGPIPE
