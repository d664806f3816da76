"""The FAQ editor in headless Chromium: the live preview works under the console's CSP, an error
shows next to its field, and the fixed edit is saved to the (copied) project's file."""
from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bot.content.faq_file import faq_path
from console import create_app
from core.clock import FixedClock

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
