"""Sign-in: hashed passwords, wrong passwords, throttling, CSRF, cookies, demo users, CLI."""
from __future__ import annotations

import pytest

from console import create_app
from console.__main__ import main as cli
from console.secret_key import KEY as SECRET_KEY_KEY
from console.users import DEMO_USERS, UserStore, ensure_demo_users

from .conftest import PASSWORDS, cpath, csrf_token, login


def test_passwords_are_stored_hashed(redis_client, users):
    stored = redis_client.hgetall("console:user:ana")
    assert PASSWORDS["ana"] not in stored.values()
    assert stored["password_hash"].startswith(("scrypt:", "pbkdf2:"))
    assert users.authenticate("ana", PASSWORDS["ana"]).role == "agent"
    assert users.authenticate("ANA ", PASSWORDS["ana"]).name == "ana"


def test_login_and_logout(app):
    client = app.test_client()
    assert client.get("/").status_code == 302  # to the login page
    response = login(client, "ana")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "ana" in page and "Waiting" in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused(app):
    client = app.test_client()
    response = login(client, "ana", "not-the-password")
    assert response.status_code == 401
    assert "Wrong user name or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert login(client, "nobody", "whatever-password").status_code == 401


def test_login_is_rate_limited_per_username(app):
    client = app.test_client()
    for _ in range(5):
        assert login(client, "ana", "wrong-password").status_code == 401
    response = login(client, "ana")  # even the right password waits now
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) <= 300
    # Another user from another address is not affected.
    assert login(app.test_client(), "luis", REMOTE_ADDR="10.0.0.9").status_code == 302


def test_login_is_rate_limited_per_ip(app):
    client = app.test_client()
    for i in range(5):
        login(client, f"guess{i}", "wrong-password", REMOTE_ADDR="10.0.0.7")
    assert login(client, "luis", REMOTE_ADDR="10.0.0.7").status_code == 429
    assert login(app.test_client(), "luis", REMOTE_ADDR="10.0.0.8").status_code == 302


def test_forms_without_csrf_token_are_rejected(app, client_for, assigned):
    client = app.test_client()
    response = client.post("/login", data={"username": "ana", "password": PASSWORDS["ana"]})
    assert response.status_code == 400
    conv = assigned("ana")
    ana = client_for("ana")
    assert ana.post(f"{cpath(conv)}/reply", data={"text": "hola"}).status_code == 400
    assert ana.post("/agent/heartbeat", headers={"X-CSRFToken": "forged"}).status_code == 400
    assert ana.post("/agent/heartbeat", headers={"X-CSRFToken": ana.csrf}).status_code == 200


def test_session_cookie_flags(redis_client, fake_rasa, users):
    for https in (False, True):
        app = create_app({"REDIS": redis_client, "RASA_URL": fake_rasa.url, "SECRET_KEY": "k",
                          "CONSOLE_HTTPS": https})
        client = app.test_client()
        cookie = login(client, "lucia").headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is https


def test_secret_key_is_generated_once(redis_client, fake_rasa, monkeypatch):
    monkeypatch.delenv("CONSOLE_SECRET_KEY", raising=False)
    first = create_app({"REDIS": redis_client, "RASA_URL": fake_rasa.url})
    second = create_app({"REDIS": redis_client, "RASA_URL": fake_rasa.url})
    assert len(first.secret_key) == 64
    assert first.secret_key == second.secret_key == redis_client.get(SECRET_KEY_KEY)


def test_no_open_redirect_after_login(app):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"username": "ana", "password": PASSWORDS["ana"],
                                           "csrf_token": token, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


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


def test_cli_creates_users(redis_url, redis_client, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert cli(["create-user", "pedro", "--role", "lead", "--generate"]) == 0
    out = capsys.readouterr().out
    password = out.split("Password: ")[1].strip()
    assert UserStore(redis_client).authenticate("pedro", password).role == "lead"
    assert cli(["create-user", "pedro", "--generate"]) == 1  # exists
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("short\n"))
    assert cli(["create-user", "rosa", "--password-stdin"]) == 1  # too short


@pytest.mark.parametrize("name", ["", "a", "Bad Name", "x" * 40])
def test_user_names_are_validated(users, name):
    with pytest.raises(ValueError):
        users.create(name, "agent", "long-enough-password")


def test_logout_ends_the_session_even_for_a_copied_cookie(app):
    """Signing out must end the session on the server, not only delete the browser's cookie."""
    client = app.test_client()
    login(client, "ana")
    stolen = client.get_cookie("alba_console").value
    other_device = app.test_client()
    login(other_device, "ana")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("alba_console", stolen)
    assert replay.get("/").status_code == 302
    # Only the session that signed out ends; ana's other browser keeps working.
    assert other_device.get("/").status_code == 200


def test_parallel_guesses_cannot_exceed_the_limit(app, monkeypatch):
    """Simultaneous wrong passwords must not all slip past the check before any is counted."""
    import threading
    import time

    store = app.extensions["console"].users
    real = store.authenticate

    def slow(name, password):
        time.sleep(0.3)  # a password hash takes time; the attempts overlap while it runs
        return real(name, password)

    monkeypatch.setattr(store, "authenticate", slow)
    attempts = 12
    barrier = threading.Barrier(attempts)
    statuses = []

    def guess(i):
        client = app.test_client()
        token = csrf_token(client)
        barrier.wait()
        statuses.append(client.post("/login", data={"username": "ana", "password": f"guess-{i}",
                                                    "csrf_token": token},
                                    environ_base={"REMOTE_ADDR": f"10.2.0.{i}"}).status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(statuses) == attempts
    assert statuses.count(401) <= 5
    assert statuses.count(429) >= attempts - 5


def test_successful_sign_ins_do_not_use_up_the_address_budget(app):
    # Many agents behind one office address sign in all day; only failures count.
    for _ in range(8):
        assert login(app.test_client(), "luis", REMOTE_ADDR="10.3.0.1").status_code == 302

