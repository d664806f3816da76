"""The supervisor page in headless Chromium: a lead signs in (offline, told so, switches online
from the notice), opens Team, sees a chat with its agent, reassigns it, and sees a new chat arrive live."""
from __future__ import annotations

from ..test_browser import browser, live, pytestmark, sign_in  # noqa: F401 - the fixtures and the skip marks


def test_supervisor_lists_a_chat_with_its_agent_and_reassigns_it(browser, live):  # noqa: F811
    conv = live.queue_customer()
    assert live.handoff.claim(conv, "ana")
    live.handoff.set_online("luis", True)
    page = sign_in(browser, live, "lucia")
    notice = page.locator("#offline-notice")
    assert "You are offline." in notice.inner_text()
    notice.locator("button:has-text('Switch Online')").click()
    notice.wait_for(state="hidden")
    assert page.inner_text("#online-label") == "Online" and live.handoff.is_online("lucia")

    page.click("nav a:has-text('Team')")
    row = page.locator("#open-chats tr", has_text="María López")
    assert row.locator(".sv-agent").inner_text() == "ana"
    row.locator("select[name=to]").select_option("luis")
    row.locator("button:has-text('Reassign')").click()
    page.wait_for_selector(".flash-success:has-text('Moved María López from ana to luis.')")
    assert page.locator("#open-chats tr", has_text="María López").locator(".sv-agent").inner_text() == "luis"
    assert live.handoff.state(conv).agent == "luis"

    # Live: a customer who asks for a person now appears without a reload.
    page.wait_for_selector("#live-status.on")
    live.queue_customer(conv="5215598765432", name="Pedro Ruiz", text="hola")
    page.locator("#open-chats tr", has_text="Pedro Ruiz").wait_for()
    page.context.close()
