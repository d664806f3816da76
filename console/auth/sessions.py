"""One server-side record per sign-in (`console:signin:{sid}`), bound to the client that signed in.

The signed session cookie alone cannot be revoked, and Flask-Login's "strong" protection does
nothing for a permanent session (it only marks it non-fresh). So the record holds who signed in
and from where: signing out deletes it, and a request whose address or browser differs from the
sign-in's ends it (a copied cookie then stops working for everyone, the agent signs in again).
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, replace

import redis

from .users import User

log = logging.getLogger(__name__)

# Sliding: each request renews it, like the permanent session cookie Flask re-issues.
TTL_SECONDS = 12 * 3600
# What a request must share with its sign-in (CONSOLE_SESSION_BIND). "ua" is for agents whose
# address changes under them (phones moving between Wi-Fi and mobile data).
BINDINGS = {"ip+ua": ("ip", "agent"), "ua": ("agent",)}
FIELD_NAMES = {"ip": "address", "agent": "browser"}


# How long a sign-in ended for moving is remembered, so that every request still carrying its
# cookie (the page's event stream, a heartbeat racing the one that tripped it) says "moved"
# alike, and the login page the browser lands on can say why.
ENDED_TTL_SECONDS = 15 * 60


def _key(sid: str) -> str:
    return f"console:signin:{sid}"


def _ended_key(sid: str) -> str:
    return f"console:signin-ended:{sid}"


@dataclass(frozen=True)
class Client:
    ip: str
    # A hash: only equality matters, and the full browser string is a fingerprint not worth keeping.
    agent: str

    @classmethod
    def of(cls, ip: str | None, user_agent: str | None) -> "Client":
        return cls(ip or "unknown", hashlib.sha256((user_agent or "").encode()).hexdigest())


class SessionMoved(Exception):
    """The sign-in was used from another client and has been ended."""


class SessionStore:
    def __init__(self, r: redis.Redis, binding: str) -> None:
        if binding not in BINDINGS:
            raise ValueError(f"CONSOLE_SESSION_BIND must be one of {', '.join(BINDINGS)}, not {binding!r}")
        self.redis = r
        self.fields = BINDINGS[binding]

    def start(self, user: User, client: Client) -> User:
        sid = secrets.token_urlsafe(24)
        pipe = self.redis.pipeline()
        pipe.hset(_key(sid), mapping={"user": user.name, "ip": client.ip, "agent": client.agent})
        pipe.expire(_key(sid), TTL_SECONDS)
        pipe.execute()
        return replace(user, session_id=sid)

    def resume(self, user: User, client: Client) -> User | None:
        """The user again if their sign-in is open and this is its client; None if there is no
        such sign-in. Raises SessionMoved (after ending it) when another client uses it."""
        if not user.session_id:
            return None
        key = _key(user.session_id)
        record = self.redis.hgetall(key)
        if record.get("user") != user.name:
            if self.redis.get(_ended_key(user.session_id)) == user.name:
                raise SessionMoved()
            return None
        moved = [f for f in self.fields if record.get(f) != getattr(client, f)]
        if moved:
            pipe = self.redis.pipeline()
            pipe.delete(key)
            pipe.set(_ended_key(user.session_id), user.name, ex=ENDED_TTL_SECONDS)
            pipe.execute()
            log.warning("ended %s's session: used from another %s (%s; signed in from %s)",
                        user.name, " and ".join(FIELD_NAMES[f] for f in moved), client.ip, record.get("ip"))
            raise SessionMoved()
        self.redis.expire(key, TTL_SECONDS)
        return user

    def end(self, user: User) -> None:
        if user.session_id:
            self.redis.delete(_key(user.session_id))
