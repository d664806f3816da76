"""Console users in Redis (`console:user:{name}`), with hashed passwords and two roles."""
from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass, replace

import redis
from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("agent", "lead")
DEMO_USERS = (("ana", "agent"), ("luis", "agent"), ("lucia", "lead"))
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 10


@functools.cache
def _dummy_hash() -> str:
    """Checked when the user does not exist, so a wrong username costs the same time as a wrong
    password and response timing does not reveal which names exist."""
    return generate_password_hash(secrets.token_hex(8))


def _key(name: str) -> str:
    return f"console:user:{name}"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    # Rotated on password change so existing sessions for the old password stop working.
    session_epoch: str
    # The sign-in this cookie belongs to (auth/sessions.py keeps its server-side record).
    session_id: str = ""

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    # flask-login's user protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.name}|{self.session_epoch}|{self.session_id}"


class UserStore:
    def __init__(self, r: redis.Redis) -> None:
        self.redis = r

    def create(self, name: str, role: str, password: str, *, replace: bool = False) -> User:
        name = normalize(name)
        if not NAME_RE.match(name):
            raise ValueError("user names are 2-32 characters: lowercase letters, digits, . _ -")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"passwords need at least {MIN_PASSWORD} characters")
        record = {
            "name": name,
            "role": role,
            "password_hash": generate_password_hash(password),
            "session_epoch": secrets.token_hex(8),
        }
        # HSETNX claims the name atomically, so two concurrent creates cannot both succeed.
        if not self.redis.hsetnx(_key(name), "name", name) and not replace:
            raise ValueError(f"user {name!r} already exists")
        self.redis.hset(_key(name), mapping=record)
        return User(name, role, record["session_epoch"])

    def get(self, name: str) -> User | None:
        record = self.redis.hgetall(_key(normalize(name)))
        if not record:
            return None
        return User(record["name"], record["role"], record["session_epoch"])

    def from_id(self, user_id: str) -> User | None:
        """The user a session cookie names, while its password epoch is current. Whether the
        sign-in itself is still valid is SessionStore's question."""
        name, _, rest = user_id.partition("|")
        epoch, _, sid = rest.partition("|")
        user = self.get(name)
        if user is None or not secrets.compare_digest(user.session_epoch, epoch):
            return None
        return replace(user, session_id=sid)

    def authenticate(self, name: str, password: str) -> User | None:
        record = self.redis.hgetall(_key(normalize(name)))
        if not record:
            check_password_hash(_dummy_hash(), password)
            return None
        if not check_password_hash(record["password_hash"], password):
            return None
        return User(record["name"], record["role"], record["session_epoch"])

    def all(self) -> list[User]:
        users = [self.get(key.split(":", 2)[2]) for key in self.redis.scan_iter("console:user:*")]
        return sorted((u for u in users if u), key=lambda u: u.name)

    def exists(self, name: str) -> bool:
        return bool(self.redis.exists(_key(normalize(name))))


def normalize(name: str) -> str:
    return name.strip().lower()


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def ensure_demo_users(r: redis.Redis | None = None) -> list[tuple[str, str, str]]:
    """Create the demo users that do not exist yet, each with a fresh random password.

    Returns [(name, role, password)] for the users created now (empty on later runs), so the
    launcher can print them once; there is no fixed default password to leak.
    """
    if r is None:
        from core.redis_conn import get_redis

        r = get_redis()
    store = UserStore(r)
    created = []
    for name, role in DEMO_USERS:
        if store.exists(name):
            continue
        password = generate_password()
        try:
            store.create(name, role, password)
        except ValueError:
            continue  # another process created it between exists() and create()
        created.append((name, role, password))
    return created
