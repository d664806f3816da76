"""The hours page in headless Chromium: edit, preview the unsaved edit, save."""
from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from werkzeug.serving import make_server

from console import create_app
from core.clock import FixedClock

from ..fake_rasa import FakeRasa
from ..test_browser import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: run `make browser`"),
]


@pytest.fixture
def server(redis_client, users, hours_path):
    rasa = FakeRasa().start()
    app = create_app({"REDIS": redis_client, "CLOCK": FixedClock(dt.datetime(2026, 12, 6, 18, tzinfo=dt.timezone.utc)),
                      "RASA_URL": rasa.url, "RASA_TOKEN": rasa.token, "SECRET_KEY": "browser-secret",
                      "BUSINESS_HOURS_FILE": str(hours_path)})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    rasa.stop()


def test_a_lead_edits_previews_and_saves_the_hours(server, hours_path):
    from playwright.sync_api import sync_playwright

    from ..conftest import PASSWORDS

    before = hours_path.read_text()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(server + "/login")
        page.fill("input[name=username]", "lucia")
        page.fill("input[name=password]", PASSWORDS["lucia"])
        page.click("button[type=submit]")
        page.click("nav a:has-text('Hours')")
        # The FixedClock's Sunday 12:00 in Mexico City; Sundays are closed in the file.
        assert page.input_value("input[name=preview-date]") == "2026-12-06"
        page.fill("input[name=day-sunday]", "11:00-15:00")
        page.click("button[value=preview]")
        assert "estamos *abiertos* ✅ hasta las 15:00" in page.inner_text("#preview")
        assert hours_path.read_text() == before  # a preview saves nothing

        page.fill("input[name=day-sunday]", "11:00-15:00, 11:30-12:00")
        page.click("button[value=save]")
        assert "overlap" in page.inner_text(".field-error[data-field=day-sunday]")
        page.fill("input[name=day-sunday]", "11:00-15:00")
        page.click("button[value=save]")
        assert "Business hours saved by lucia" in page.inner_text(".flash-success")
        browser.close()
    assert hours_path.read_text() == before.replace("sunday:    closed", 'sunday:    ["11:00-15:00"]')
