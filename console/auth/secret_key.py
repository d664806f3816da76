"""The session-signing key: from CONSOLE_SECRET_KEY, else generated once and kept in Redis.

Keeping the generated key in Redis means restarts (and several console processes) share it, so
agents are not logged out every time the launcher restarts the console.
"""
from __future__ import annotations

import secrets

import redis

KEY = "console:secret_key"


def load_or_create(r: redis.Redis) -> str:
    r.set(KEY, secrets.token_hex(32), nx=True)
    return r.get(KEY)
