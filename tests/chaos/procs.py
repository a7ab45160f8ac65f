"""Separate processes for the chaos tests: a `phasegrid sim` server, `phasegrid serve`
and `phasegrid worker` processes (killed with SIGKILL, stopped, signalled), a JSON-RPC
client that tolerates a dead server, and the simulator's tenant read back through its
state file."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

from tests.envs import child_env
from tests.rpc.conftest import ROOT, phasegrid_cmd
from workflows.sim import SimConfig, Simulator


def first_line(proc: subprocess.Popen[str], startswith: str, timeout: float = 60) -> str:
    """The first stdout line starting with `startswith` (the process's banner)."""
    found: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, ""):
            if line.startswith(startswith):
                found.append(line)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert found, f"no {startswith!r} line (exit {proc.poll()})"
    return found[0]


class Procs:
    """Every process the test starts, stopped (SIGKILL) at the end whatever happened."""

    def __init__(self, tmp: Path, redis_url: str, prefix: str) -> None:
        self.tmp = tmp
        self.redis_url = redis_url
        self.prefix = prefix
        self.started: list[subprocess.Popen[str]] = []
        self.logs: list[TextIO] = []
        # one data directory for every serve: they share the secret key sealing the inputs
        self.env = child_env(PYTHONPATH=str(ROOT), XDG_DATA_HOME=str(tmp / "xdg"))

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen[str]:
        log = (self.tmp / log_name).open("w")
        self.logs.append(log)
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=log, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.started.append(proc)
        return proc

    def sim(self, state: Path, *, seed: int, faults: str) -> str:
        proc = self._spawn(
            phasegrid_cmd("sim", "--port", "0", "--profile", "fast", "--seed", str(seed),
                          "--faults", faults, "--state", str(state), "--rate-limit", "1000000"),
            "sim.log",
        )  # fmt: skip
        return first_line(proc, "R1 simulator on ").split()[3]

    def serve(
        self, sim_url: str, lease_ttl: float, *extra: str
    ) -> tuple[subprocess.Popen[str], str]:
        n = len(self.started)
        proc = self._spawn(
            phasegrid_cmd("--redis-url", self.redis_url, "serve", "--port", "0",
                          "--prefix", self.prefix, "--backend", "sim-url", "--sim-url", sim_url,
                          "--lease-ttl", str(lease_ttl), "--log-level", "warning", *extra),
            f"serve{n}.log",
        )  # fmt: skip
        line = first_line(proc, "phasegrid serve: ")
        return proc, line.split()[2].removesuffix("/rpc")

    def worker(self, sim_url: str, lease_ttl: float, *extra: str) -> Worker:
        """A `phasegrid worker` of the simulator's target, up (its banner printed)."""
        log = self.tmp / f"worker{len(self.started)}.log"
        proc = self._spawn(
            phasegrid_cmd("worker", "--redis-url", self.redis_url, "--prefix", self.prefix,
                          "--sim-url", sim_url, "--lease-ttl", str(lease_ttl), *extra),
            log.name,
        )  # fmt: skip
        banner = first_line(proc, "phasegrid worker ")
        return Worker(proc, banner.split()[2].rstrip(":"), log)

    def close(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            if proc.stdout:
                proc.stdout.close()
        for log in self.logs:
            log.close()


@dataclass
class Worker:
    """A `phasegrid worker` process: its worker id (as in JobStarted events) and the
    file its stderr goes to (one line per claimed/finished job)."""

    proc: subprocess.Popen[str]
    id: str
    log: Path

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait_line(self, text: str, timeout: float = 60) -> str:
        """The first stderr line containing `text`, once the worker has written it."""
        deadline = time.monotonic() + timeout
        while True:
            exited = self.proc.poll() is not None  # before reading: then the read has it all
            for line in self.log.read_text().splitlines():
                if text in line:
                    return line
            assert not exited, f"{self.id} exited {self.proc.returncode} without {text!r}"
            assert time.monotonic() < deadline, f"{self.id}: no {text!r} line"
            time.sleep(0.02)

    def exit_code(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)


def kill9(proc: subprocess.Popen[Any]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


class Rpc:
    """JSON-RPC to whichever serve process is current."""

    def __init__(self, base: str) -> None:
        self.http = httpx.AsyncClient(base_url=base, timeout=60)

    async def post(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        resp = await self.http.post("/rpc", json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        doc = await self.post(method, params)
        assert "result" in doc, doc
        return doc["result"]

    async def aclose(self) -> None:
        await self.http.aclose()


def preseed_sim(state: Path, *, seed: int, serials: list[str], groups: list[str]) -> dict:
    """Write the simulator's starting tenant: the units' APs plus AP groups named like
    the job will name its own (the operator's, pre-existing). Returns their ids."""
    from workflows.sim.model import ApGroup

    sim = Simulator(SimConfig(seed=seed, aps=4, extra_ap_serials=serials, state_file=str(state)))
    ids = {}
    for i, name in enumerate(groups):
        ids[name] = f"apg-operator-{i}"
        sim.store.add_ap_group(ApGroup(ids[name], sim.venue_id, name, "the operator's"))
    sim.save()
    return ids


async def sim_tenant(sim_url: str, state: Path) -> tuple[Simulator, dict[str, Any]]:
    """The live simulator's committed resources (via its state file) and its stats."""
    async with httpx.AsyncClient(base_url=sim_url, timeout=60) as http:
        saved = await http.post("/_sim/save")
        assert saved.status_code == 200, saved.text
        stats = (await http.get("/_sim/stats")).json()
    return Simulator(SimConfig(snapshot_file=str(state))), stats
