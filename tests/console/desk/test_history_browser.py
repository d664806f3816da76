"""In headless Chromium: an agent finds last week's conversation with a customer, opens it, and
reopens the chat, which then offers templates only (the 24 h window closed long ago)."""
from __future__ import annotations

import os

import pytest

from bot.handoff import Handoff
from tests.console.test_browser import CHROMIUM, DOCS, browser, serve, sign_in  # noqa: F401  (browser: a fixture)

from ..conftest import CUSTOMER
from .test_history_views import app, events_url, last_week  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: run `make browser`"),
]


def test_an_agent_finds_last_weeks_conversation_opens_it_and_reopens_the_chat(
        browser, app, last_week, handoff: Handoff, tmp_path):  # noqa: F811
    with serve(app) as live:
        page = sign_in(browser, live, "ana")
        page.click("nav >> text=History")
        page.fill("input[name=q]", "talla 26")
        page.click("#history-search button[type=submit]")
        page.wait_for_selector("#history-results")
        assert "VIP" in page.inner_text("#history-results")
        target = DOCS / "history.png" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "history.png"
        page.screenshot(path=str(target), full_page=True)
        page.click("#history-results .history-open")
        page.wait_for_selector("#reopen-button")
        assert "Claro, te mando la guía de cambio" in page.inner_text("#history")
        page.click("#reopen-button")
        page.wait_for_selector("#template-box[open]")
        assert "Reopened" in page.inner_text(".flash-success")
        assert page.is_disabled("#reply-text")
        assert handoff.state(CUSTOMER).agent == "ana"
        page.context.close()
