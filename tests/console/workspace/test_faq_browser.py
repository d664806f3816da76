"""The FAQ editor in headless Chromium: the live preview works under the console's CSP, an error
shows next to its field, and the fixed edit is saved to the (copied) project's file; and Try it."""
from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bot.content.faq_file import faq_path
from bot.content.heldout import fallback_threshold
from bot.content.publish_store import PublishStore
from bot.content.try_server import TryServer
from bot.content.try_store import WAKE, TryStore
from console import create_app
from core.clock import FixedClock
from tests.publishing import copy_with_model

from ..test_browser import browser, pytestmark, sign_in  # noqa: F401 - the fixture and the skip marks


DOCS = Path(__file__).resolve().parents[3] / "docs"


class LiveEditor:
    def __init__(self, redis_client, fake_rasa, project) -> None:
        self.app = create_app({"REDIS": redis_client, "CLOCK": FixedClock(dt.datetime(2026, 1, 5, 16, 0, tzinfo=dt.timezone.utc)),
                               "RASA_URL": fake_rasa.url, "RASA_TOKEN": fake_rasa.token,
                               "SECRET_KEY": "browser-secret", "PROJECT_DIR": project})
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def live(redis_client, fake_rasa, users, project):
    server = LiveEditor(redis_client, fake_rasa, project)
    yield server
    server.server.shutdown()


def test_edit_preview_error_fix_and_save(browser, live, project, tmp_path):  # noqa: F811 - browser is the imported fixture
    errors: list[str] = []
    page = sign_in(browser, live, "lucia")
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.click("nav a:has-text('FAQs')")
    page.click("#faq-table a:has-text('returns')")
    page.wait_for_selector("#faq-form")

    page.fill("textarea[name='answer.en']", "Returns are *free* for _30 days_ <b>really</b>")
    page.wait_for_selector("#preview-en strong:has-text('free')", timeout=10_000)
    assert page.inner_text("#preview-en em") == "30 days"
    assert "<b>really</b>" in page.inner_text("#preview-en .wa-bubble")  # escaped, shown as typed

    page.fill("textarea[name='examples.en']", "return\nreturns please")
    assert page.inner_text("[data-count-for='examples.en']") == "2"
    page.click("#save")
    page.wait_for_selector("#draft-banner")
    section = page.locator(".faq-language[data-language='en']")
    assert "only 2 en examples (minimum 10)" in section.locator(".field-error").first.inner_text()
    assert "Returns are *free*" not in faq_path(project, "returns").read_text(encoding="utf-8")
    # README's picture of the editor: the preview, and a check shown beside its field.
    target = DOCS / "editor.png" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "editor.png"
    page.set_viewport_size({"width": 1280, "height": 1100})
    page.screenshot(path=str(target), full_page=False)

    page.fill("textarea[name='examples.en']", "\n".join(f"how do i return thing number {i}" for i in range(10)))
    page.click("#save")
    page.wait_for_selector(".flash-success")
    text = faq_path(project, "returns").read_text(encoding="utf-8")
    assert 'text: "Returns are *free* for _30 days_ <b>really</b>"' in text
    assert "    - how do i return thing number 9\n" in text
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.context.close()


@pytest.fixture
def worker(redis_client, tmp_path, trained_model):
    """The publish worker's loop on a project whose draft is the session's model."""
    project = copy_with_model(tmp_path / "try-project", trained_model, "var/publish/build")
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


@pytest.mark.model
def test_a_lead_asks_and_sees_the_faq_and_what_the_customer_gets(browser, redis_client, fake_rasa, users, worker):  # noqa: F811
    """Try it: the worker's loop (in a thread here) answers with the draft model, the page shows
    the FAQ and what the customer gets, with no reload and under the CSP."""
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
