"""API clients and their bearer keys. A key is shown once, when it is made; only its SHA-256 is
kept (a random 256-bit key needs no slow hash: there is nothing to guess from). Revoking a client
turns its key away at once; a new key for the same name replaces the old one.

Keys (owned here, under the console's prefix):
  console:apikeys              hash: sha256(key) hex → client name
  console:apiclient:{name}     hash: name, key_sha256, created_at, revoked_at (ISO)
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from core.clock import SYSTEM_CLOCK, Clock

BY_HASH = "console:apikeys"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PREFIX = "alba_"


def _client_key(name: str) -> str:
    return f"console:apiclient:{name}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class ApiClient:
    name: str
    created_at: str
    revoked_at: str = ""

    @property
    def active(self) -> bool:
        return not self.revoked_at

    @property
    def scope(self) -> str:
        """Whose idempotency keys and sends these are (connector/outreach)."""
        return f"api:{self.name}"


class ApiKeys:
    def __init__(self, redis, clock: Clock = SYSTEM_CLOCK) -> None:
        self.redis = redis
        self.clock = clock

    def create(self, name: str) -> str:
        """A new key for `name` (replacing any earlier one); returns it: the only time it is seen."""
        if not NAME_RE.match(name or ""):
            raise ValueError("a client name is 1-40 lowercase letters, digits, - or _, starting with a letter or digit")
        key = PREFIX + secrets.token_urlsafe(32)
        old = self.redis.hget(_client_key(name), "key_sha256")
        pipe = self.redis.pipeline()
        if old:
            pipe.hdel(BY_HASH, old)
        pipe.hset(BY_HASH, _digest(key), name)
        pipe.delete(_client_key(name))
        pipe.hset(_client_key(name), mapping={"name": name, "key_sha256": _digest(key),
                                              "created_at": self.clock.now().isoformat()})
        pipe.execute()
        return key

    def revoke(self, name: str) -> bool:
        digest = self.redis.hget(_client_key(name), "key_sha256")
        if digest is None or self.redis.hget(_client_key(name), "revoked_at"):
            return False
        pipe = self.redis.pipeline()
        pipe.hdel(BY_HASH, digest)
        pipe.hset(_client_key(name), "revoked_at", self.clock.now().isoformat())
        pipe.execute()
        return True

    def authenticate(self, key: str) -> ApiClient | None:
        """The client whose key this is, or None (unknown or revoked)."""
        if not key or not key.startswith(PREFIX):
            return None
        name = self.redis.hget(BY_HASH, _digest(key))
        client = self.get(name) if name else None
        return client if client is not None and client.active else None

    def get(self, name: str) -> ApiClient | None:
        data = self.redis.hgetall(_client_key(name))
        if not data:
            return None
        return ApiClient(data["name"], data.get("created_at", ""), data.get("revoked_at", ""))

    def all(self) -> list[ApiClient]:
        names = sorted(key.split(":", 2)[2] for key in self.redis.scan_iter(_client_key("*")))
        return [c for c in map(self.get, names) if c is not None]
