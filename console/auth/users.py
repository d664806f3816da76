"""Console users in Redis (`console:{users}:user:<name>`), with hashed passwords and two roles.

Every user's hash carries the hash tag {users}: a role change is checked against every other
user in one script (the last active lead), which on Redis Cluster must touch one slot.

A user's hash holds name, role, password_hash, session_epoch and, while they are disabled,
disabled = "1". Ending every session of a user is rotating their session_epoch: each cookie
carries the epoch it was issued under (User.get_id), so all of them stop at once, whatever
sign-in records (auth/sessions.py) are still open.
"""
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

# KEYS[1] the user changed, then every user; ARGV: new role, new disabled ("1"/""), password
# hash ("" = keep), new session epoch ("" = keep). One step, so two leads demoting each other
# at once cannot leave the console without an active lead. A user created meanwhile is not in
# KEYS, but creating never removes a lead. Returns "missing", "last_lead" or "ok".
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local leads = 0
for i = 2, #KEYS do
  if KEYS[i] ~= KEYS[1] then
    local r = redis.call('HMGET', KEYS[i], 'role', 'disabled')
    if r[1] == 'lead' and r[2] ~= '1' then leads = leads + 1 end
  end
end
if ARGV[1] == 'lead' and ARGV[2] ~= '1' then leads = leads + 1 end
local was = redis.call('HMGET', KEYS[1], 'role', 'disabled')
if leads == 0 and was[1] == 'lead' and was[2] ~= '1' then return 'last_lead' end
redis.call('HSET', KEYS[1], 'role', ARGV[1])
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'disabled', '1') else redis.call('HDEL', KEYS[1], 'disabled') end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'password_hash', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'session_epoch', ARGV[4]) end
return 'ok'
"""


class LastLead(ValueError):
    """The change would leave no active lead to manage the console."""


@functools.cache
def _dummy_hash() -> str:
    """Checked when the user does not exist, so a wrong username costs the same time as a wrong
    password and response timing does not reveal which names exist."""
    return generate_password_hash(secrets.token_hex(8))


USER_PREFIX = "console:{users}:user:"


def _key(name: str) -> str:
    return USER_PREFIX + name


@dataclass(frozen=True)
class User:
    name: str
    role: str
    # Rotated on password change so existing sessions for the old password stop working.
    session_epoch: str
    # The sign-in this cookie belongs to (auth/sessions.py keeps its server-side record).
    session_id: str = ""
    # Cannot sign in; their cookies are refused (from_id) and their epoch was rotated.
    disabled: bool = False

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    # flask-login's user protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return not self.disabled

    def get_id(self) -> str:
        return f"{self.name}|{self.session_epoch}|{self.session_id}"


class UserStore:
    def __init__(self, r: redis.Redis) -> None:
        self.redis = r

    def create(self, name: str, role: str, password: str, *, replace: bool = False) -> User:
        name = normalize(name)
        if not NAME_RE.match(name):
            raise ValueError("user names are 2-32 characters: lowercase letters, digits, . _ -")
        _check_role(role)
        _check_password(password)
        record = {
            "name": name,
            "role": role,
            "password_hash": generate_password_hash(password),
            "session_epoch": secrets.token_hex(8),
        }
        # HSETNX claims the name atomically, so two concurrent creates cannot both succeed.
        if not self.redis.hsetnx(_key(name), "name", name) and not replace:
            raise ValueError(f"user {name!r} already exists")
        pipe = self.redis.pipeline()
        pipe.hset(_key(name), mapping=record)
        # Replacing makes the user anew, enabled: the CLI's way back in when every lead is locked out.
        pipe.hdel(_key(name), "disabled")
        pipe.execute()
        return User(name, role, record["session_epoch"])

    def get(self, name: str) -> User | None:
        return _user(self.redis.hgetall(_key(normalize(name))))

    def update(self, name: str, *, role: str | None = None, disabled: bool | None = None,
               password: str | None = None) -> User:
        """Change a user's role, disabled state or password; disabling and a new password end
        their sessions. Raises LookupError for an unknown user, LastLead when no active lead
        would be left, ValueError for a bad role or password."""
        user = self.get(name)
        if user is None:
            raise LookupError(f"no user {name!r}")
        role = user.role if role is None else role
        disabled = user.disabled if disabled is None else disabled
        _check_role(role)
        if password is not None:
            _check_password(password)
        ends_sessions = password is not None or (disabled and not user.disabled)
        keys = [_key(user.name)] + list(self.redis.scan_iter(USER_PREFIX + "*"))
        status = self.redis.register_script(_UPDATE)(keys=keys, args=[
            role, "1" if disabled else "", generate_password_hash(password) if password is not None else "",
            secrets.token_hex(8) if ends_sessions else ""])
        if status == "missing":
            raise LookupError(f"no user {name!r}")
        if status == "last_lead":
            raise LastLead(f"{user.name} is the last active lead; make another user a lead first")
        return self.get(user.name)

    def from_id(self, user_id: str) -> User | None:
        """The user a session cookie names, while its password epoch is current. Whether the
        sign-in itself is still valid is SessionStore's question."""
        name, _, rest = user_id.partition("|")
        epoch, _, sid = rest.partition("|")
        user = self.get(name)
        if user is None or user.disabled or not secrets.compare_digest(user.session_epoch, epoch):
            return None
        return replace(user, session_id=sid)

    def authenticate(self, name: str, password: str) -> User | None:
        record = self.redis.hgetall(_key(normalize(name)))
        if not record:
            check_password_hash(_dummy_hash(), password)
            return None
        if not check_password_hash(record["password_hash"], password):
            return None
        # A disabled user is returned as such: the sign-in page refuses them and says why.
        return _user(record)

    def all(self) -> list[User]:
        users = [self.get(key[len(USER_PREFIX):]) for key in self.redis.scan_iter(USER_PREFIX + "*")]
        return sorted((u for u in users if u), key=lambda u: u.name)

    def exists(self, name: str) -> bool:
        return bool(self.redis.exists(_key(normalize(name))))


def _user(record: dict) -> User | None:
    if not record:
        return None
    return User(record["name"], record["role"], record["session_epoch"], disabled=record.get("disabled") == "1")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"passwords need at least {MIN_PASSWORD} characters")


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
