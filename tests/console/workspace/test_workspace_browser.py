"""The leads' workspace in headless Chromium. The not-understood inbox, on a real event store: a
group of similar messages with the FAQ they most likely meant; "Add as example" writes the
message into that FAQ's file in its language, and the publish page and the FAQ list then show it
awaits a publish; "Dismiss" takes a message out. The publish page's live progress, from a job
record written the way the worker writes it (the real worker: tests/bot/content/test_publisher.py)."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from bot.content import history
from bot.content.faq_file import FaqFile
from bot.content.publish_store import PublishStore

from ..test_browser import browser, pytestmark, serve, sign_in  # noqa: F401 - the fixture and the skip marks

JAN5 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def live(app):
    with serve(app) as server:
        yield server


@pytest.fixture
def inbox(recorder, redis_client, project):
    recorder.turn("c1", JAN5, "donde esta mi pedido", fallback=True, ranking=[("order_tracking", 0.31)])
    recorder.turn("c2", JAN5 + 60, "dónde está mi pedidoo", fallback=True, ranking=[("order_tracking", 0.29)])
    recorder.turn("c3", JAN5 + 120, "quiero hablar de futbol", fallback=True)
    # What is live: the project's data as it is now (what a publish would have recorded).
    PublishStore(redis_client).add_history({"id": "initial", "kind": "initial", "user": "(before)", "at": time.time(),
                                            "model": "/m/a.tar.gz", "data_commit": None, "diff": "", "files": []},
                                           history.data_files(project))


def test_add_as_example_then_it_awaits_a_publish_and_dismiss_removes(browser, live, inbox, project):  # noqa: F811
    page = sign_in(browser, live, "lucia")
    page.click("nav a:has-text('Not understood')")
    group = page.locator(".nu-group", has_text="pedido")
    assert "order_tracking" in group.locator(".likely").inner_text()
    assert group.locator("tbody tr").count() == 2

    row = group.locator("tbody tr").first
    text = row.locator("td").first.inner_text()
    assert row.locator("td").nth(1).inner_text() == "es"
    assert row.locator("select[name=faq]").input_value() == "order_tracking"
    row.locator("button:has-text('Add as example')").click()
    page.wait_for_selector(".flash-success")
    assert f"Added “{text}” to order_tracking (es)" in page.inner_text(".flash-success")
    assert FaqFile.load(project, "order_tracking").examples("es")[-1] == text
    assert page.locator(".nu-group", has_text="pedido").locator("tbody tr").count() == 1

    other = page.locator(".nu-group", has_text="futbol")
    other.locator("tbody tr button:has-text('Dismiss')").click()
    page.wait_for_selector(".flash-success:has-text('Dismissed 1 message.')")
    assert "futbol" not in page.inner_text("main")

    page.click("nav a:has-text('Publish')")
    assert "data/faq/order_tracking.yml" in page.inner_text("#unpublished")
    page.click("nav a:has-text('FAQs')")
    # is_visible() does not wait: right after the click it may still be reading the Publish page.
    page.wait_for_selector("#faq-table tr[data-faq='order_tracking'] .unpublished", state="visible")
    assert page.locator("#faq-table tr[data-faq='returns'] .unpublished").count() == 0
    page.context.close()


def test_a_publish_page_opened_while_the_job_is_queued_shows_its_stages_live(browser, live, redis_client):  # noqa: F811
    store = PublishStore(redis_client)
    job, _ = store.enqueue("lucia")
    page = sign_in(browser, live, "lucia")
    page.goto(live.url + "/publish/")
    assert page.inner_text("#publish-state") == "queued"
    assert page.locator("#publish-stages tbody tr").count() == 0, "the worker has not listed the stages yet"
    page.evaluate("window.__same_page = true")
    # The worker takes the job and reports its first stage.
    job.update(state="running", stage="regression check", stages=[
        {"name": "validate", "status": "done", "seconds": 0.42},
        {"name": "regression check", "status": "running", "seconds": None}])
    store.save(job)
    page.wait_for_selector("#publish-stages tr[data-stage='validate'] .status-done", timeout=10_000)
    assert page.inner_text("#publish-stages tr[data-stage='validate'] .stage-seconds") == "0.4"
    assert page.inner_text("#publish-state") == "running" and page.evaluate("window.__same_page") is True
    page.context.close()
