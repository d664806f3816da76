"""The customer chat page in a real (headless) Chromium: typing and tapping become signed webhooks."""
from __future__ import annotations

import os

import pytest

from tests.emulator.conftest import CUSTOMER, valid_signature, wait_for

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = "/tmp/emulator-chat.png"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); browser test skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 820, "height": 980})
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        yield pg
        browser.close()
        assert errors == [], f"JavaScript errors on the page: {errors}"


def webhook_message(receiver, predicate, what):
    def find():
        for hit in list(receiver.hits):
            for entry in hit["json"]["entry"]:
                for change in entry["changes"]:
                    for m in change["value"].get("messages", []):
                        if predicate(m):
                            return hit, change["value"], m
        return None
    return wait_for(find, 10, what)


def test_customer_chats_through_the_page(emu, receiver, page):
    page.goto(f"{emu.base}/")
    page.fill("#phone", CUSTOMER)
    page.fill("#name", "Ana López")
    page.click("#identity button[type=submit]")
    page.wait_for_url(f"**/chat/{CUSTOMER}")

    # 1. Typing a message sends a correctly signed text webhook.
    page.fill("#text", "Hola, ¿a qué hora abren?")
    page.press("#text", "Enter")
    hit, value, msg = webhook_message(receiver, lambda m: m["type"] == "text", "text webhook")
    assert valid_signature(hit["raw"], hit["headers"]["X-Hub-Signature-256"])
    assert msg["text"] == {"body": "Hola, ¿a qué hora abren?"} and msg["from"] == CUSTOMER
    assert value["contacts"] == [{"profile": {"name": "Ana López"}, "wa_id": CUSTOMER}]
    page.wait_for_selector(".row.in .ticks[data-status=delivered]")

    # 2. The bot answers with reply buttons; they appear; the customer's message turns blue.
    reply = emu.send({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive",
                      "interactive": {"type": "button",
                                      "body": {"text": "Abrimos de 9:00 a 19:00. ¿Algo más?"},
                                      "footer": {"text": "Mi Negocio"},
                                      "action": {"buttons": [
                                          {"type": "reply", "reply": {"id": "/affirm", "title": "Sí, por favor"}},
                                          {"type": "reply", "reply": {"id": "/deny", "title": "No, gracias"}}]}}})
    assert reply.status_code == 200
    button_msg = reply.json()["messages"][0]["id"]
    button = page.wait_for_selector('button.choice[data-button-id="/deny"]')
    assert button.text_content() == "No, gracias"
    page.wait_for_selector(".row.in .ticks.read")
    # Displayed on the page → the bot gets a read status for it.
    wait_for(lambda: any(s["status"] == "read" for s in receiver.statuses(button_msg)), 10, "read status")

    # 3. Tapping a button sends button_reply with the id the bot sent.
    button.click()
    hit, _, msg = webhook_message(receiver, lambda m: m["type"] == "interactive", "button_reply")
    assert valid_signature(hit["raw"], hit["headers"]["X-Hub-Signature-256"])
    assert msg["interactive"] == {"type": "button_reply",
                                  "button_reply": {"id": "/deny", "title": "No, gracias"}}
    assert msg["context"]["id"] == button_msg

    # 4. A list: "Ver opciones" opens the sheet, a row sends list_reply.
    listed = emu.send({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive",
                       "interactive": {"type": "list", "header": {"type": "text", "text": "Preguntas frecuentes"},
                                       "body": {"text": "Elige un tema"},
                                       "action": {"button": "Ver opciones", "sections": [
                                           {"title": "Temas", "rows": [
                                               {"id": "faq_horario", "title": "Horario", "description": "¿Cuándo abrimos?"},
                                               {"id": "faq_envios", "title": "Envíos", "description": "Costos y tiempos"}]}]}}})
    list_id = listed.json()["messages"][0]["id"]
    page.click(f'button[data-list-open="{list_id}"]')
    page.click('button.list-row[data-row-id="faq_envios"]')
    _, _, msg = webhook_message(receiver, lambda m: m.get("interactive", {}).get("type") == "list_reply",
                                "list_reply")
    assert msg["interactive"]["list_reply"] == {"id": "faq_envios", "title": "Envíos",
                                                "description": "Costos y tiempos"}

    # 5. Location preset and sample image.
    page.click("#attach")
    page.click("#open-location")
    page.click("#location-presets button.list-row >> nth=0")
    _, _, msg = webhook_message(receiver, lambda m: m["type"] == "location", "location")
    assert msg["location"]["name"] == "Zócalo" and abs(msg["location"]["latitude"] - 19.432608) < 1e-6
    page.click("#attach")
    page.click("#send-sample")
    _, _, msg = webhook_message(receiver, lambda m: m["type"] == "image", "image")
    assert msg["image"]["mime_type"] == "image/png" and msg["image"]["id"]
    page.wait_for_selector(".row.in img.media-img")

    # 6. Bot text is rendered inertly.
    hostile = '<img src=x onerror="window.pwned=1"><b>negrita</b>'
    emu.send(emu.text(hostile))
    row = page.wait_for_selector(".row.out >> text=negrita")
    assert hostile in row.text_content()
    assert page.evaluate("window.pwned") is None
    assert page.query_selector(".row.out b") is None
    # WhatsApp's own *bold* is shown bold, built from text, so markup inside it stays inert too.
    emu.send(emu.text("Envío *gratis* desde _$999_ *<i>x</i>*"))
    bold = page.wait_for_selector(".row.out strong >> text=gratis")
    assert bold.text_content() == "gratis"
    assert page.query_selector(".row.out em").text_content() == "$999"
    assert page.query_selector(".row.out i") is None

    # 7. A reaction on the bot's message.
    page.click(f'.row[data-id="{button_msg}"] .react-btn')
    page.click(f'.row[data-id="{button_msg}"] .react-bar button >> nth=0')
    _, _, msg = webhook_message(receiver, lambda m: m["type"] == "reaction", "reaction")
    assert msg["reaction"] == {"message_id": button_msg, "emoji": "👍"}

    # 8. A free-form message after 24 h shows the red "!" with Meta's error title.
    emu.client.post(f"{emu.base}/_emulator/clock", json={"advance_seconds": 25 * 3600})
    late = emu.send(emu.text("¿Sigues interesado?")).json()["messages"][0]["id"]
    failure = page.wait_for_selector(f'.row[data-id="{late}"] .fail')
    assert "Re-engagement message" in failure.text_content()
    assert failure.query_selector(".fail-icon").text_content() == "!"

    page.wait_for_timeout(300)
    page.screenshot(path=SCREENSHOT, full_page=False)
