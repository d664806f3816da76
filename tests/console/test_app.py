"""The app factory: cookie flags follow CONSOLE_HTTPS."""
from __future__ import annotations

from console import create_app

from .conftest import login


def test_session_cookie_flags(redis_client, fake_rasa, users):
    for https in (False, True):
        app = create_app({"REDIS": redis_client, "RASA_URL": fake_rasa.url, "SECRET_KEY": "k",
                          "CONSOLE_HTTPS": https})
        client = app.test_client()
        cookie = login(client, "lucia").headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is https
