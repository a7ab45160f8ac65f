"""The embedded Redis: a real server, reused by a second process, clear errors."""

from __future__ import annotations

import pytest
import redis as redis_sync

from engine import redis_server
from engine.errors import RedisUnavailable
from engine.redis_server import EmbeddedRedis


def test_start_reuse_and_stop(tmp_path):
    first = EmbeddedRedis(tmp_path / "d")
    url = first.start()
    try:
        assert first.owner and url.startswith("unix://")
        second = EmbeddedRedis(tmp_path / "d")
        assert second.start() == url and not second.owner  # reused, not started again
        client = redis_sync.Redis.from_url(url)
        assert client.config_get("appendonly")["appendonly"] == "yes"
        client.set("k", "v")
        second.stop()  # not the owner: no effect
        assert client.get("k") == b"v"
        first.stop()  # another client is connected: the server stays up for it
        assert client.ping()
        client.close()
    finally:
        first.stop(force=True)
    with pytest.raises(redis_sync.ConnectionError):
        redis_sync.Redis.from_url(url).ping()


def test_long_data_dir_falls_back_to_loopback_tcp(tmp_path):
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    server = EmbeddedRedis(deep)
    try:
        url = server.start()
        assert url.startswith("redis://127.0.0.1:")
        assert redis_sync.Redis.from_url(url).ping()
        assert EmbeddedRedis(deep).start() == url  # reused through the endpoint file
    finally:
        server.stop(force=True)


def test_missing_binary_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(redis_server, "redis_server_binary", lambda: str(tmp_path / "nope"))
    with pytest.raises(RedisUnavailable) as err:
        EmbeddedRedis(tmp_path / "d").start(timeout=2)
    assert "cannot start redis-server" in str(err.value)


def test_a_server_that_dies_at_start_reports_its_log(tmp_path):
    bad = tmp_path / "fake-redis"
    bad.write_text("#!/bin/sh\necho 'FATAL: config broken' >&2\nexit 1\n")
    bad.chmod(0o755)
    server = EmbeddedRedis(tmp_path / "d")
    server_binary = redis_server.redis_server_binary
    try:
        redis_server.redis_server_binary = lambda: str(bad)
        with pytest.raises(RedisUnavailable) as err:
            server.start(timeout=3)
    finally:
        redis_server.redis_server_binary = server_binary
    assert "did not start" in str(err.value)
