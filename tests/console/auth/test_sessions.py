"""The server-side record per sign-in: signing out ends it, so a copied cookie stops working."""
from __future__ import annotations

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
