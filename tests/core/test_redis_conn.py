"""core/redis_conn.py: the embedded Redis the launcher starts is locked down like a real one."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import redis

from core.redis_conn import EmbeddedRedis, RedisAddress, free_port, get_redis, redacted


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def locked(tmp_path):
    data = tmp_path / "redis"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    # What an older run left behind: an AOF readable by every local user.
    (data / "appendonly.aof").write_bytes(b"")
    os.chmod(data / "appendonly.aof", 0o644)
    server = EmbeddedRedis(data, port=free_port(), password="s3cret-Pw_1")
    url = server.start()
    yield server, url
    server.stop()


def test_the_embedded_redis_refuses_clients_without_its_password(locked):
    server, url = locked
    assert RedisAddress.parse(url).password == "s3cret-Pw_1"
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=server.port).set("k", "v")
    client = get_redis(url)
    assert client.set("k", "v") and client.get("k") == "v"


def test_the_embedded_redis_password_is_not_on_its_command_line(locked):
    server, _ = locked
    cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
    assert b"s3cret-Pw_1" not in cmdline


def test_the_embedded_redis_data_is_owner_only(locked):
    server, url = locked
    client = get_redis(url)
    client.set("queued", "webhook")
    client.bgsave()
    client.bgrewriteaof()
    assert _mode(server.data_dir) == 0o700
    files = [p for p in server.data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "appendonly.aof" for p in files)
    for path in files:
        assert _mode(path) & 0o077 == 0, f"{path.name} is {oct(_mode(path))}"


def test_a_second_start_on_a_port_served_with_another_password_says_so(locked, tmp_path):
    server, _ = locked
    other = EmbeddedRedis(tmp_path / "other", port=server.port, password="not-the-same")
    with pytest.raises(RuntimeError, match="password"):
        other.start()


def test_a_redis_url_is_shown_without_its_password():
    assert redacted("redis://:s3cret@127.0.0.1:6390/0") == "redis://:***@127.0.0.1:6390/0"
    assert redacted("redis://user:s3cret@db.example:6379/2") == "redis://user:***@db.example:6379/2"
    assert redacted("redis://127.0.0.1:6390/0") == "redis://127.0.0.1:6390/0"


def _appendfsync(server: EmbeddedRedis) -> str:
    return redis.Redis(port=server.port, password=server.password,
                       decode_responses=True).config_get("appendfsync")["appendfsync"]


@pytest.mark.parametrize("setting, expected", [(None, "everysec"), ("always", "always"), ("everysec", "everysec")])
def test_the_embedded_redis_fsyncs_its_append_only_file_as_redis_appendfsync_says(
        tmp_path, monkeypatch, setting, expected):
    if setting is None:
        monkeypatch.delenv("REDIS_APPENDFSYNC", raising=False)
    else:
        monkeypatch.setenv("REDIS_APPENDFSYNC", setting)
    server = EmbeddedRedis(tmp_path / "redis", port=free_port())
    server.start()
    try:
        assert _appendfsync(server) == expected
    finally:
        server.stop()


def test_an_unknown_redis_appendfsync_stops_the_embedded_redis_before_it_starts(tmp_path, monkeypatch):
    # "no" too: the OS would flush when it likes (Linux: up to ~30 s of acknowledged webhooks).
    for wrong in ("no", "sometimes"):
        monkeypatch.setenv("REDIS_APPENDFSYNC", wrong)
        with pytest.raises(ValueError, match="REDIS_APPENDFSYNC"):
            EmbeddedRedis(tmp_path / "redis", port=free_port())
