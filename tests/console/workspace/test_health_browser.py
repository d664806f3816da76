"""The FAQ health page in headless Chromium: the matplotlib charts load under the console's CSP."""
from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path

import pytest

from console import create_app
from core.clock import FixedClock
from tests.bot.insights.recorder import Recorder, sqlite_url
from tests.console.test_browser import ARGS, CHROMIUM, DOCS, serve, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: run `make browser`"),
]
FAQS = ["shipping_cost", "order_tracking", "returns", "opening_hours", "size_guide_shoes", "payment_methods"]
MISSES = ["tienen tenis para correr", "hacen descuento a estudiantes", "puedo pagar con paypal",
          "venden calcetines", "donde esta mi pedidoo"]


def _two_weeks(recorder: Recorder, today: dt.datetime) -> None:
    """Deterministic traffic: FAQ answers, misses and handoffs, busier on weekdays."""
    rng = random.Random(8)
    for back in range(14, 0, -1):
        day = today - dt.timedelta(days=back)
        for n in range(rng.randint(6, 14) + (6 if day.weekday() < 5 else 0)):
            at = (day.replace(hour=9) + dt.timedelta(minutes=37 * n)).timestamp()
            conv = f"c{back}-{n}"
            reply = round(rng.uniform(0.2, 1.4), 2)
            if rng.random() < 0.18:
                recorder.turn(conv, at, rng.choice(MISSES), fallback=True, reply_after=reply,
                              handoff=rng.random() < 0.3, ranking=[(rng.choice(FAQS), rng.uniform(0.1, 0.3))])
            else:
                recorder.turn(conv, at, "pregunta", faq=rng.choice(FAQS[: rng.randint(1, len(FAQS))]),
                              reply_after=reply, handoff=rng.random() < 0.08)


@pytest.fixture
def live(redis_client, tmp_path, users):
    clock = FixedClock(dt.datetime(2026, 1, 15, 16, 0, tzinfo=dt.timezone.utc))
    url = sqlite_url(tmp_path)
    _two_weeks(Recorder(url), clock.now())
    app = create_app({"REDIS": redis_client, "CLOCK": clock, "SECRET_KEY": "browser-secret",
                      "EVENTS_DB_URL": url, "TIMEZONE": "UTC"})
    with serve(app) as server:
        yield server


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def test_the_health_page_draws_its_charts_in_a_browser(browser, live, tmp_path):
    page = sign_in(browser, live, "lucia")
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.click("nav >> text=FAQ health")
    page.wait_for_selector("h1:has-text('FAQ health')")
    page.wait_for_load_state("networkidle")
    sizes = page.eval_on_selector_all("img.chart-img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
    assert len(sizes) == 4 and all(done and width > 300 for done, width in sizes), sizes
    assert blocked == []
    # A narrower range through the form reloads the figures.
    page.fill("input[name=from]", "2026-01-12")
    page.click("text=Show")
    page.wait_for_url("**from=2026-01-12**")
    assert page.locator("#health-days tbody tr").count() == 4
    target = DOCS / "health.png" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "health.png"
    page.goto(live.url + "/workspace/health")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(target), full_page=True)
    page.context.close()
