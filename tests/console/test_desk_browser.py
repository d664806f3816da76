"""The desk in a real browser: switching chats without a reload, live unread counts, the
shortcuts, and the 390 px phone layout (headless Chromium, as tests/console/test_browser.py)."""
from __future__ import annotations

from .test_browser import browser, live, pytestmark, sign_in  # noqa: F401 - the fixtures and the skip marks

MARIA, BETO = "5215512341234", "5215599990000"


def unread_badge(page, name):
    return page.locator(f".chat-row:has-text('{name}') .unread-count")


def test_switching_chats_keeps_the_page_and_counts_unread_live(browser, live):  # noqa: F811 - imported fixtures
    live.queue_customer(conv=MARIA, name="María López", text="Quiero cambiar la talla")
    live.queue_customer(conv=BETO, name="Beto Ruiz", text="¿Tienen sandalias?")
    for conv in (MARIA, BETO):
        assert live.handoff.claim(conv, "ana")
    page = sign_in(browser, live, "ana")
    page.click("#mine-table tr:has-text('María López') a")
    page.wait_for_selector("#chat-list .chat-row.active:has-text('María López')")
    page.wait_for_selector("#live-status.on")
    page.evaluate("window.__same_page = true")
    maria_url = page.url

    page.click(".chat-row:has-text('Beto Ruiz')")
    page.wait_for_selector("h1:has-text('Beto Ruiz')")
    assert page.evaluate("window.__same_page") is True  # swapped in, not reloaded
    assert page.url != maria_url and "¿Tienen sandalias?" in page.inner_text("#history")
    # The composer is wired up again for the chat swapped in.
    page.select_option("#canned-select", label="Revisando")
    assert "estoy revisando tu caso" in page.input_value("#reply-text")
    page.fill("#reply-text", "")

    # María writes while Beto's chat is open: her row counts it, live.
    live.rasa.add(MARIA, {"event": "user", "text": "¿Me ayudas?"})
    live.handoff.update_last_message(MARIA, "¿Me ayudas?")
    live.redis.publish("handoff:customer-messages", '{"conversation_id": "%s"}' % MARIA)
    page.wait_for_selector(".chat-row:has-text('María López') .unread-count:visible")
    assert unread_badge(page, "María López").inner_text() == "1"
    assert "¿Me ayudas?" in page.inner_text(".chat-row:has-text('María López')")

    page.keyboard.press("k")  # typed into the reply: a letter, not a shortcut
    assert page.input_value("#reply-text") == "k"
    page.fill("#reply-text", "")
    page.keyboard.press("Escape")  # out of the field: now the previous chat, María's, read once open
    page.keyboard.press("k")
    page.wait_for_selector("h1:has-text('María López')")
    page.wait_for_selector("text=¿Me ayudas?")
    assert page.url == maria_url and page.evaluate("window.__same_page") is True
    assert unread_badge(page, "María López").is_hidden()
    assert live.rasa.posts() == []
    page.go_back()  # history works: back to Beto's chat, still without a reload
    page.wait_for_selector("h1:has-text('Beto Ruiz')")
    assert page.evaluate("window.__same_page") is True
    page.keyboard.press("?")
    assert "Next chat" in page.inner_text("#shortcut-help")
    page.keyboard.press("Escape")
    assert page.is_hidden("#shortcut-help")
    page.context.close()


def test_the_console_fits_a_390_px_phone(browser, live):  # noqa: F811
    live.queue_customer(name="María López Hernández de la Garza",
                        text="Compré unos tenis talla 25 en la sucursal Coyoacán y me quedaron chicos")
    page = sign_in(browser, live, "lucia")  # a lead: the longest nav
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = "document.scrollingElement.scrollWidth"
    assert page.evaluate(overflow) <= 390
    for selector in ("text=Sign out", "#waiting-table .claim-form button"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
    assert page.is_hidden("#main-nav")
    page.click("#nav-toggle")
    page.wait_for_selector("#main-nav a:has-text('Campaigns')")
    assert page.evaluate(overflow) <= 390
    page.click("#nav-toggle")
    page.click("#waiting-table .claim-form button")
    page.wait_for_url("**/c/*")
    assert page.evaluate(overflow) <= 390
    assert page.is_hidden("#chat-list")  # one pane: the chat, with the way back to the list
    assert page.is_visible("#reply-text") and page.is_visible("text=Sign out")
    page.click("a.back")
    page.wait_for_selector("h1:has-text('Chats')")
    page.context.close()
