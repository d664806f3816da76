"""The login throttle: failed sign-ins per user name and per address, counted before the password check."""
from __future__ import annotations

from console.auth.throttle import PREFIX, LoginThrottle

from ..conftest import csrf_token, login


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


def test_throttle_window_is_not_extended_by_more_failures(redis_client):
    throttle = LoginThrottle(redis_client, limit=2, window_seconds=60)
    throttle.record_failure("ana", "1.1.1.1")
    assert throttle.retry_after("ana", "1.1.1.1") is None
    throttle.record_failure("ana", "1.1.1.1")
    assert 0 < throttle.retry_after("ana", "1.1.1.1") <= 60
    assert redis_client.ttl(f"{PREFIX}:user:ana") <= 60
    throttle.record_success("ana")
    assert throttle.retry_after("ana", "2.2.2.2") is None
    assert throttle.retry_after("bob", "1.1.1.1") is not None  # the IP stays limited
