"""The WhatsApp account page in headless Chromium: a lead finds it in the nav and resumes
marketing that a flagged number paused."""
from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from werkzeug.serving import make_server

from connector.policy.quality import QualityRegister
from console import create_app
from core.clock import FixedClock

from ..conftest import PASSWORDS
from ..fake_rasa import FakeRasa
from ..test_browser import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: run `make browser`"),
]
NOON = dt.datetime(2026, 1, 5, 12, tzinfo=dt.timezone.utc)


@pytest.fixture
def server(redis_client, users):
    rasa = FakeRasa().start()
    app = create_app({"REDIS": redis_client, "CLOCK": FixedClock(NOON), "RASA_URL": rasa.url,
                      "RASA_TOKEN": rasa.token, "SECRET_KEY": "browser-secret"})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    rasa.stop()


def test_a_lead_resumes_marketing_paused_by_a_flag(server, redis_client):
    from playwright.sync_api import sync_playwright

    quality = QualityRegister(redis_client, FixedClock(NOON))
    quality.record_quality("FLAGGED", at=NOON - dt.timedelta(minutes=30), current_limit="TIER_2K")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
        page.goto(server + "/login")
        page.fill("input[name=username]", "lucia")
        page.fill("input[name=password]", PASSWORDS["lucia"])
        page.click("button[type=submit]")
        page.click("nav a:has-text('WhatsApp account')")
        assert "Paused" in page.inner_text("#marketing-state") and "quality FLAGGED" in page.inner_text("#marketing")
        assert page.inner_text("#tier-name") == "TIER_2K"
        page.click("#resume-marketing")
        assert page.get_attribute("#marketing-state", "data-state") == "sending"
        assert "Resumed by lucia" in page.inner_text("#marketing-state")
        assert errors == []  # the page works under the console's CSP
        browser.close()
    assert quality.marketing_pause() is None
