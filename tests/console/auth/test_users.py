"""Users: hashed passwords, valid names, a password reset ends old sign-ins, random demo passwords."""
from __future__ import annotations

import pytest

from console.auth.users import DEMO_USERS, USER_PREFIX, UserStore, ensure_demo_users

from ..conftest import PASSWORDS, login


def test_passwords_are_stored_hashed(redis_client, users):
    stored = redis_client.hgetall(USER_PREFIX + "ana")
    assert PASSWORDS["ana"] not in stored.values()
    assert stored["password_hash"].startswith(("scrypt:", "pbkdf2:"))
    assert users.authenticate("ana", PASSWORDS["ana"]).role == "agent"
    assert users.authenticate("ANA ", PASSWORDS["ana"]).name == "ana"


@pytest.mark.parametrize("name", ["", "a", "Bad Name", "x" * 40])
def test_user_names_are_validated(users, name):
    with pytest.raises(ValueError):
        users.create(name, "agent", "long-enough-password")


def test_password_reset_ends_old_sessions(app, users):
    client = app.test_client()
    login(client, "ana")
    assert client.get("/").status_code == 200
    users.create("ana", "agent", "a-brand-new-password", replace=True)
    assert client.get("/").status_code == 302


def test_demo_users_get_random_passwords_once(redis_client):
    created = ensure_demo_users(redis_client)
    assert [(n, r) for n, r, _ in created] == list(DEMO_USERS)
    passwords = [p for _, _, p in created]
    assert len(set(passwords)) == 3 and all(len(p) >= 12 for p in passwords)
    store = UserStore(redis_client)
    for name, _, password in created:
        assert store.authenticate(name, password)
    assert ensure_demo_users(redis_client) == []
    redis_client.flushdb()
    again = ensure_demo_users(redis_client)
    assert not set(passwords) & {p for _, _, p in again}
