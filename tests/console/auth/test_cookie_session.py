"""The session cookie is written only by requests that change it or that load a page: a page's
background fetch (live history, chat list, heartbeat) that re-sent the cookie it read would write
back the session as it was before a form's answer, and the agent's "Template sent." flash, set by
that form, would vanish (seen in the template browser test)."""
from __future__ import annotations

from ..conftest import cpath

FETCH = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
PAGE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


def test_a_background_fetch_leaves_the_cookie_alone_and_a_page_load_renews_it(client_for, assigned):
    conv = assigned("ana")
    ana = client_for("ana")
    fetched = ana.get(cpath(conv) + "/history", headers=FETCH)
    assert fetched.status_code == 200 and "Set-Cookie" not in fetched.headers
    beat = ana.post("/agent/heartbeat", headers={**FETCH, "X-CSRFToken": ana.csrf})
    assert beat.status_code == 200 and "Set-Cookie" not in beat.headers
    page = ana.get(cpath(conv), headers=PAGE)
    assert page.status_code == 200 and "alba_console=" in page.headers.get("Set-Cookie", "")


def test_a_flash_set_while_a_fetch_is_in_flight_survives_it(app, client_for, assigned):
    conv = assigned("ana")
    ana = client_for("ana")
    before = ana.get_cookie("alba_console").value  # what the page's live refresh is sent with
    ana.post(cpath(conv) + "/notes", data={"csrf_token": ana.csrf, "text": "Cliente frecuente"}, headers=PAGE)
    # The refresh left before the form's answer set the flash, and its answer comes after it.
    in_flight = app.test_client()
    in_flight.set_cookie("alba_console", before)
    late = in_flight.get(cpath(conv) + "/history", headers=FETCH)
    for header in late.headers.getlist("Set-Cookie"):  # the browser applies what the answer sets
        name, _, rest = header.partition("=")
        ana.set_cookie(name, rest.split(";")[0])
    assert "Note saved." in ana.get(cpath(conv), headers=PAGE).get_data(as_text=True)
