"""`phasegrid demo` in a real pseudo-terminal (pexpect): plan review on
screen, `y`, then COMPLETED and the grid read back from the terminal output,
in 256 colours, in the 16-colour `standard` system and with NO_COLOR (Textual's
monochrome filter over every line, the grid's included)."""

from __future__ import annotations

import re
import shutil
import sys

import pexpect  # installed with the test extra
import pytest

from tests.envs import child_env

ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07")


def plain(data: str) -> str:
    return ANSI.sub("", data)


def phasegrid_cmd() -> list[str]:
    exe = shutil.which("phasegrid")
    return [exe] if exe else [sys.executable, "-m", "app.cli"]


@pytest.mark.parametrize(
    "env_extra",
    [
        pytest.param({"TERM": "xterm-256color"}, id="xterm-256color"),
        pytest.param({"TERM": "xterm-256color", "TEXTUAL_COLOR_SYSTEM": "standard"}, id="standard"),
        pytest.param({"TERM": "xterm-256color", "NO_COLOR": "1"}, id="no-color"),
    ],
)
def test_demo_in_a_real_terminal(tmp_path, env_extra) -> None:
    env = child_env(("TEXTUAL", "PHASEGRID"))
    env.pop("NO_COLOR", None)  # only the no-color run sets it
    env.update(env_extra)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # a private embedded Redis
    env["COLUMNS"], env["LINES"] = "120", "40"
    cmd = phasegrid_cmd()
    child = pexpect.spawn(
        cmd[0],
        [*cmd[1:], "demo", "--profile", "instant", "--units", "12", "--refresh-hz", "10"],
        env=env,
        cwd=str(tmp_path),
        dimensions=(40, 120),
        encoding="utf-8",
        codec_errors="replace",
        timeout=60,
    )
    try:
        child.expect("SIMULATED")
        child.expect("Plan: ")
        child.expect("to create")
        child.send("y")
        child.expect("COMPLETED", timeout=90)
        seen = child.before + child.after
        if "✓" not in plain(seen):  # the grid's redraw may follow the status line
            child.expect("✓", timeout=60)  # no short wait: a loaded machine draws late
            seen += child.before + child.after
        screen = plain(seen)
        assert "unit" in screen  # the grid's sticky header
        for unit in ("101", "112"):
            assert unit in screen
        assert "✓" in screen
        child.send("q")  # job -> jobs
        child.send("q")  # quit
        child.expect(pexpect.EOF, timeout=30)
    finally:
        if child.isalive():
            child.terminate(force=True)
    child.close()
    assert child.exitstatus == 0, plain(child.before or "")[-2000:]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_script_confirms_the_plan_the_operator_is_looking_at(tmp_path) -> None:
    """`phasegrid demo --serve`: the TUI's engine also answers JSON-RPC on loopback."""
    import httpx

    env = child_env(("TEXTUAL", "PHASEGRID"))
    env.update(TERM="xterm-256color", XDG_DATA_HOME=str(tmp_path / "data"))
    port = _free_port()
    cmd = phasegrid_cmd()
    args = ["demo", "--profile", "instant", "--units", "6", "--serve", f"127.0.0.1:{port}"]
    child = pexpect.spawn(
        cmd[0], [*cmd[1:], *args], env=env, cwd=str(tmp_path), dimensions=(40, 120),
        encoding="utf-8", codec_errors="replace", timeout=60,
    )  # fmt: skip
    try:
        child.expect("Plan: ")
        child.expect("Serving /rpc and /mcp")

        def rpc(method: str, params: dict) -> dict:
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
            reply = httpx.post(f"http://127.0.0.1:{port}/rpc", json=body, timeout=10).json()
            assert "result" in reply, reply
            return reply["result"]

        jobs = rpc("jobs.list", {"status": "AWAITING_CONFIRMATION"})
        [job] = jobs["jobs"] if isinstance(jobs, dict) else jobs
        view = rpc("jobs.get", {"job_id": job["id"]})
        view = view.get("job", view)
        rpc("jobs.confirm", {"job_id": job["id"], "digest": view["plan_digest"]})
        child.expect("COMPLETED", timeout=90)  # the operator's screen follows the script
        child.send("q")
        child.send("q")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        if child.isalive():
            child.terminate(force=True)
    child.close()
    assert child.exitstatus == 0
