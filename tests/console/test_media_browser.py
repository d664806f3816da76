"""Media both ways through the whole product, in headless Chromium: a customer's photo reaches
the bot, which promises "a person can see it"; the customer taps *Hablar con persona*, the agent
sees the photo inline (through the console's proxy, never Meta's URL) and attaches a PDF that
the customer's phone on the emulator receives by its uploaded media id."""
from __future__ import annotations

import os

import httpx
import pytest

from connector.cloudapi.config import GraphTarget
from connector.cloudapi.media import MediaClient
from console import create_app
from console.auth.users import UserStore
from core.redis_conn import get_redis
from tests.console.test_browser import CHROMIUM, browser, serve  # noqa: F401 (fixture)
from tests.test_end_to_end import Customer, text_of

pytestmark = [pytest.mark.model, pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_agent_sees_the_customers_photo_and_sends_a_pdf(stack, browser, tmp_path):  # noqa: F811
    wa_id = "5215512340077"
    customer = Customer(stack, wa_id, "Rosa")
    customer._post({"type": "image", "sample": True, "caption": "me llegó así el zapato"})
    (promise,) = customer.wait_for_replies(1)
    assert "una persona sí" in text_of(promise)
    customer.taps(promise, "Hablar con persona")
    customer.wait_for_replies(1)  # "Te comunico con una persona…"

    redis = get_redis(stack.redis_url)
    UserStore(redis).create("ana", "agent", "ana-secret-pass-1", replace=True)
    target = GraphTarget(stack.env["WHATSAPP_ACCESS_TOKEN"], stack.env["WHATSAPP_PHONE_NUMBER_ID"],
                         graph_url=stack.emulator_url)
    app = create_app({"REDIS": redis, "RASA_URL": stack.rasa_url, "RASA_TOKEN": stack.env["RASA_TOKEN"],
                      "SECRET_KEY": "media-browser-secret", "MEDIA_CLIENT": MediaClient(target),
                      "MEDIA_CACHE_DIR": str(tmp_path / "media")})
    with serve(app) as console:
        page = browser.new_context(viewport={"width": 1360, "height": 860}).new_page()
        page.goto(console.url + "/login")
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", "ana-secret-pass-1")
        page.click("button[type=submit]")
        page.click("#waiting-table .claim-form button")
        page.wait_for_url("**/c/*")

        image = page.wait_for_selector(".msg-customer .msg-media img.media-img")
        assert "/media/" in image.get_attribute("src") and "_emulator" not in image.get_attribute("src")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
        assert "me llegó así el zapato" in page.inner_text("#history")

        page.set_input_files("#attach-file", files=[
            {"name": "factura.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        page.fill("#attach-caption", "Tu factura")
        page.click("#attach-send")
        page.wait_for_selector(".msg-agent .media-doc:has-text('factura.pdf')")

    (sent,) = customer.wait_for_replies(1)
    assert sent["type"] == "document"
    document = sent["body"]["document"]
    assert document["filename"] == "factura.pdf" and document["caption"] == "Tu factura"
    auth = {"Authorization": f"Bearer {target.access_token}"}
    uploaded = httpx.get(f"{stack.emulator_url}/v23.0/{document['id']}", headers=auth).json()
    assert uploaded["mime_type"] == "application/pdf" and uploaded["file_size"] == len(PDF)
