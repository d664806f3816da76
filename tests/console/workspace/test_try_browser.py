"""Try it in headless Chromium: a lead types a question, the worker's loop (in a thread here)
answers it with the draft model, and the page shows the FAQ and what the customer gets, with no
reload and under the console's CSP."""
from __future__ import annotations

import os
import threading

import pytest

from bot.content.heldout import fallback_threshold
from bot.content.publish_store import PublishStore
from bot.content.try_server import TryServer
from bot.content.try_store import WAKE, TryStore
from tests.bot.content.test_publisher import copy_with_model

from ..test_browser import browser, pytestmark, sign_in  # noqa: F401 - the fixture and the skip marks
from .test_faq_browser import DOCS, LiveEditor


@pytest.fixture
def worker(redis_client, tmp_path, trained_model):
    """The publish worker's loop on a project whose draft is the session's model."""
    project = copy_with_model(tmp_path / "project", trained_model, "var/publish/build")
    publish = PublishStore(redis_client)
    server = TryServer(TryStore(redis_client), publish, project, project / "var" / "publish" / "build", "browser")
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            publish.heartbeat("browser")
            if publish.next_job(1, wake=(WAKE,)) is None:
                server.serve_one()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield project
    stop.set()
    thread.join(10)


def test_a_lead_asks_and_sees_the_faq_and_what_the_customer_gets(browser, redis_client, fake_rasa, users, worker):  # noqa: F811
    live = LiveEditor(redis_client, fake_rasa, worker)
    errors: list[str] = []
    try:
        page = sign_in(browser, live, "lucia")
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.click("nav a:has-text('Try it')")
        page.fill("#try-question", "cuanto cuesta el envio")
        page.click("#try-ask")
        page.wait_for_selector("#try-answer", timeout=60_000)
        assert page.inner_text("#try-winner .try-faq") == "shipping_cost"
        threshold = fallback_threshold(worker / "config.yml")
        assert f"threshold {threshold * 100:.0f} %" in page.inner_text("#try-confidence")
        assert "$99 MXN" in page.inner_text("#try-preview .wa-bubble >> nth=0")
        assert page.locator("#try-preview .wa-button", has_text="Hablar con persona").count() == 1
        assert page.is_hidden("#try-status")
        assert not [e for e in errors if "Content Security Policy" in e], errors
        if os.environ.get("UPDATE_SCREENSHOTS"):  # README's picture of the page
            page.screenshot(path=str(DOCS / "try-it.png"), full_page=True)
        page.context.close()
    finally:
        live.server.shutdown()
