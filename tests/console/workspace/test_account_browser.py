"""The WhatsApp account page in headless Chromium: a lead finds it in the nav and resumes
marketing that a flagged number paused."""
from __future__ import annotations

import datetime as dt
import os

import pytest

from connector.policy.quality import QualityRegister

from ..conftest import PASSWORDS
from ..test_browser import CHROMIUM, browser, live  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: run `make browser`"),
]


def test_a_lead_resumes_marketing_paused_by_a_flag(browser, live, redis_client):
    quality = QualityRegister(redis_client, live.clock)
    quality.record_quality("FLAGGED", at=live.clock.now() - dt.timedelta(minutes=30), current_limit="TIER_2K")
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    page.goto(live.url + "/login")
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
    page.close()
    assert quality.marketing_pause() is None
