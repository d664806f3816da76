"""The server-side record per sign-in: signing out ends it, and it is bound to the client that
signed in (address and browser), so a copied cookie stops working."""
from __future__ import annotations

import logging

import pytest

from console import create_app

from ..conftest import csrf_token, login


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


LAPTOP = {"REMOTE_ADDR": "10.1.0.5", "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
THIEF = {"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "curl/8.5.0"}


def _client(app, environ):
    client = app.test_client()
    client.environ_base.update(environ)
    return client


def _signed_in(app, environ, name="ana"):
    client = _client(app, environ)
    assert login(client, name).status_code == 302
    assert client.get("/").status_code == 200
    return client


def _replay(app, cookie, environ, **kwargs):
    client = _client(app, environ)
    client.set_cookie("alba_console", cookie)
    return client.get("/", **kwargs)


def _app(redis_client, fake_rasa, **settings):
    return create_app({"REDIS": redis_client, "RASA_URL": fake_rasa.url, "SECRET_KEY": "k", **settings})


def test_a_cookie_replayed_from_another_address_and_browser_ends_the_session(app, caplog):
    """Flask-Login's "strong" protection only marks a permanent session non-fresh, so a copied
    cookie kept working from anywhere; the sign-in record now names its address and browser."""
    laptop = _signed_in(app, LAPTOP)
    stolen = laptop.get_cookie("alba_console").value
    with caplog.at_level(logging.WARNING, logger="console.auth"):
        response = _replay(app, stolen, THIEF)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    # Ended on the server: the copy is worthless, and so is the original (the agent signs in again).
    assert _replay(app, stolen, THIEF).status_code == 302
    assert laptop.get("/").status_code == 302
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "ana" in warning.getMessage() and "203.0.113.9" in warning.getMessage()


def test_every_request_still_carrying_a_moved_cookie_is_told_why(app):
    """The page's event stream or a heartbeat can race the request that tripped the check, and
    the browser keeps whichever cookie comes back last: each of them must say "moved", or the
    page reloads into a login page that does not say why (a flaky browser test found this)."""
    laptop = _signed_in(app, LAPTOP)
    cookie = laptop.get_cookie("alba_console").value
    _replay(app, cookie, {**LAPTOP, "REMOTE_ADDR": "198.51.100.20"}, headers={"Accept": "application/json"})
    racing = _replay(app, cookie, LAPTOP, headers={"Accept": "application/json"})
    assert racing.status_code == 401 and "another network or browser" in racing.json["error"]
    page = _client(app, LAPTOP)
    page.set_cookie("alba_console", cookie)
    assert "another network or browser" in page.get("/", follow_redirects=True).get_data(as_text=True)



def test_a_script_post_after_the_stream_ended_the_sign_in_gets_401_not_a_csrf_400(app):
    """The page's event stream is the first to trip the check (it cannot read a status), and its
    answer clears the session the browser then sends with the next fetch: that POST carried a
    form token of the ended session and got "400 form token missing", so the page showed an
    error and never reloaded into the login page (seen in the browser test under three workers)."""
    laptop = _signed_in(app, LAPTOP)
    token = csrf_token(laptop, "/")
    moved = {**LAPTOP, "REMOTE_ADDR": "198.51.100.20"}
    stream = _client(app, moved)
    stream.set_cookie("alba_console", laptop.get_cookie("alba_console").value)
    assert stream.get("/events", headers={"Sec-Fetch-Mode": "cors"}).status_code == 401
    switch = stream.post("/agent/status", data={"online": "1"},
                         headers={"X-CSRFToken": token, "Sec-Fetch-Mode": "cors"})
    assert switch.status_code == 401 and "another network or browser" in switch.json["error"]


def test_a_replayed_cookie_gets_401_on_json_requests(app):
    stolen = _signed_in(app, LAPTOP).get_cookie("alba_console").value
    response = _replay(app, stolen, THIEF, headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.json["error"]


def test_another_browser_behind_the_same_address_is_refused(app):
    """An office NAT gives every agent one address; the browser still tells them apart."""
    stolen = _signed_in(app, LAPTOP).get_cookie("alba_console").value
    other_browser = {**LAPTOP, "HTTP_USER_AGENT": "Mozilla/5.0 (Windows NT 10.0) Chrome/126.0"}
    assert _replay(app, stolen, other_browser).status_code == 302


def test_the_same_address_and_browser_keep_the_session(app):
    laptop = _signed_in(app, LAPTOP)
    assert _replay(app, laptop.get_cookie("alba_console").value, LAPTOP).status_code == 200
    assert laptop.get("/").status_code == 200


def test_ua_binding_lets_a_mobile_agent_change_networks(redis_client, fake_rasa, users):
    app = _app(redis_client, fake_rasa, SESSION_BIND="ua")
    phone = _signed_in(app, LAPTOP)
    cookie = phone.get_cookie("alba_console").value
    assert _replay(app, cookie, {**LAPTOP, "REMOTE_ADDR": "198.51.100.20"}).status_code == 200
    assert _replay(app, cookie, THIEF).status_code == 302
    assert phone.get("/").status_code == 302


def test_the_address_is_the_client_behind_trusted_proxies(redis_client, fake_rasa, users):
    """Behind a TLS proxy every request comes from the proxy; the client is in X-Forwarded-For."""
    app = _app(redis_client, fake_rasa, TRUSTED_PROXIES=1)
    proxy = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": LAPTOP["HTTP_USER_AGENT"]}
    laptop = _signed_in(app, {**proxy, "HTTP_X_FORWARDED_FOR": "10.1.0.5"})
    cookie = laptop.get_cookie("alba_console").value
    assert _replay(app, cookie, {**proxy, "HTTP_X_FORWARDED_FOR": "10.1.0.5"}).status_code == 200
    assert _replay(app, cookie, {**proxy, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}).status_code == 302


def test_an_unknown_binding_is_refused_at_start(redis_client, fake_rasa):
    with pytest.raises(ValueError, match="CONSOLE_SESSION_BIND"):
        _app(redis_client, fake_rasa, SESSION_BIND="ip")


def test_an_agent_whose_address_changed_is_told_why(app):
    """A phone that moves to mobile data is signed out (strict binding); its script gets a 401
    and the page it then reloads explains what happened."""
    phone = _signed_in(app, LAPTOP)
    phone.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    response = phone.get("/queue/partial", headers={"Accept": "application/json"})
    assert response.status_code == 401 and "another network or browser" in response.json["error"]
    page = phone.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Sign in" in page and "used from another network or browser" in page


def test_the_record_keeps_the_address_and_a_hash_of_the_browser(redis_client, users):
    from console.auth.sessions import Client, SessionStore

    store = SessionStore(redis_client, "ip+ua")
    user = store.start(users.get("ana"), Client.of("10.1.0.5", LAPTOP["HTTP_USER_AGENT"]))
    [key] = redis_client.keys("console:signin:*")
    record = redis_client.hgetall(key)
    assert record["user"] == "ana" and record["ip"] == "10.1.0.5"
    assert LAPTOP["HTTP_USER_AGENT"] not in record.values()
    assert 0 < redis_client.ttl(key) <= 12 * 3600
    store.end(user)
    assert not redis_client.exists(key)


def test_scripts_get_401_and_pages_the_login_redirect(app):
    """A fetch for an HTML fragment or an EventSource must not follow a redirect to the login
    page: rendering it there would use up the message meant for the page."""
    anonymous = app.test_client()
    fragment = anonymous.get("/queue/partial", headers={"Accept": "text/html", "Sec-Fetch-Mode": "cors"})
    assert fragment.status_code == 401
    assert anonymous.get("/events", headers={"Accept": "text/event-stream", "Sec-Fetch-Mode": "cors"}).status_code == 401
    page = anonymous.get("/", headers={"Accept": "text/html", "Sec-Fetch-Mode": "navigate"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
