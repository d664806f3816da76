"""One server-side record per sign-in (`console:session:{sid}`).

The signed session cookie alone cannot be revoked: signing out deletes the record, so a copy of
the cookie stops working.
"""
from __future__ import annotations

import secrets
from dataclasses import replace

import redis

from .users import User

# Sliding: each request renews it, like the permanent session cookie Flask re-issues.
TTL_SECONDS = 12 * 3600


def _key(sid: str) -> str:
    return f"console:session:{sid}"


class SessionStore:
    def __init__(self, r: redis.Redis) -> None:
        self.redis = r

    def start(self, user: User) -> User:
        sid = secrets.token_urlsafe(24)
        self.redis.set(_key(sid), user.name, ex=TTL_SECONDS)
        return replace(user, session_id=sid)

    def resume(self, user: User) -> User | None:
        """The user again if their sign-in is still open, else None."""
        if not user.session_id or self.redis.get(_key(user.session_id)) != user.name:
            return None
        self.redis.expire(_key(user.session_id), TTL_SECONDS)
        return user

    def end(self, user: User) -> None:
        if user.session_id:
            self.redis.delete(_key(user.session_id))
