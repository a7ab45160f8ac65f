"""`phasegrid submit/confirm/status/watch/...--server`: the CLI as a JSON-RPC client."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from app.cli import main
from rpc.http import serve_in_background
from tests.rpc.conftest import units

pytestmark = pytest.mark.anyio


async def cli(*argv: str) -> int:
    return await anyio.to_thread.run_sync(main, list(argv))


def write(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


async def test_submit_confirm_watch_status_jobs(server, tmp_path, capsys) -> None:
    s = ("--server", server.url)
    good = write(tmp_path, "units.json", {"units": units("a", "b"), "options": {"delay": 0.05}})
    assert await cli("submit", "demo", good, *s) == 0
    out = capsys.readouterr().out
    assert "Plan: 6 to create, 0 to reuse, 0 conflicts" in out
    assert "Confirm with: phasegrid confirm " in out

    assert await cli("submit", "demo", good, "--json", *s) == 0
    plan = json.loads(capsys.readouterr().out)
    job, digest = plan["job_id"], plan["digest"]

    assert await cli("confirm", job, "0" * 32, *s) == 4
    assert "digest does not match" in capsys.readouterr().err
    assert await cli("confirm", job, digest, *s) == 0
    assert f"confirmed: job {job}" in capsys.readouterr().out

    assert await cli("watch", job, "--interval", "0", *s) == 0
    out = capsys.readouterr().out
    assert "\r" not in out  # not a TTY: plain lines
    lines = out.strip().splitlines()
    assert lines[-1] == f"COMPLETED job {job}" and "2 of 2 succeeded, 0 failed" in lines[-2]

    assert await cli("status", job, *s) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"job {job}  demo  COMPLETED") and "phase" in out and "network" in out
    assert await cli("status", job, "--json", *s) == 0
    assert json.loads(capsys.readouterr().out)["units_by_state"]["succeeded"] == 2
    assert await cli("jobs", *s) == 0
    assert job in capsys.readouterr().out
    assert await cli("retry", job, *s) == 4  # COMPLETED: nothing to retry
    capsys.readouterr()


async def test_exit_codes(server, tmp_path, capsys) -> None:
    s = ("--server", server.url)
    conflict = write(tmp_path, "c.json", [{"name": "a", "conflict": ["pool"]}])
    assert await cli("submit", "demo", conflict, *s) == 3
    bad = write(tmp_path, "bad.json", [{"name": "a", "vlan": 0}])
    assert await cli("submit", "demo", bad, *s) == 65
    assert "units[0].vlan" in capsys.readouterr().err
    assert await cli("submit", "nope", bad, *s) == 64
    assert await cli("status", "missing", *s) == 66
    assert await cli("status", "missing", "--json", *s) == 66
    assert json.loads(capsys.readouterr().out)["error"]["kind"] == "not_found"

    good = write(tmp_path, "g.json", units("x"))
    assert await cli("submit", "demo", good, "--json", *s) == 0
    plan = json.loads(capsys.readouterr().out)
    assert await cli("cancel", plan["job_id"], *s) == 0
    assert "is CANCELLED" in capsys.readouterr().out
    assert await cli("watch", plan["job_id"], *s) == 1


async def test_unreachable_and_unauthorized(engine, capsys) -> None:
    assert await cli("status", "x", "--server", "http://127.0.0.1:9") == 69
    async with serve_in_background(engine, "127.0.0.1", 0, token="s3cret-t0ken") as srv:
        assert await cli("jobs", "--server", srv.url) == 77
        err = capsys.readouterr().err
        assert "401" in err and "s3cret" not in err
        assert await cli("jobs", "--server", srv.url, "--token", "s3cret-t0ken") == 0
