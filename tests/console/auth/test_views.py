"""Sign in and sign out: the pages, wrong passwords, CSRF on every form, no open redirect."""
from __future__ import annotations

from ..conftest import PASSWORDS, cpath, csrf_token, login


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


def test_forms_without_csrf_token_are_rejected(app, client_for, assigned):
    client = app.test_client()
    response = client.post("/login", data={"username": "ana", "password": PASSWORDS["ana"]})
    assert response.status_code == 400
    conv = assigned("ana")
    ana = client_for("ana")
    assert ana.post(f"{cpath(conv)}/reply", data={"text": "hola"}).status_code == 400
    assert ana.post("/agent/heartbeat", headers={"X-CSRFToken": "forged"}).status_code == 400
    assert ana.post("/agent/heartbeat", headers={"X-CSRFToken": ana.csrf}).status_code == 200


def test_no_open_redirect_after_login(app):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"username": "ana", "password": PASSWORDS["ana"],
                                           "csrf_token": token, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"
