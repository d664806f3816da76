"""The whole chain: customer on the emulator → signed webhook → connector → the real trained
model → outbound path → the emulator receives what WhatsApp would show the customer."""
from __future__ import annotations

import json
import time

import httpx
import pytest

from bot.content.catalog import load_catalog
from connector.inbox.queue import DONE, Ingest
from connector.webhook.signature import sign
from core.redis_conn import get_redis
from tests.prometheus import value

pytestmark = pytest.mark.model


class Customer:
    """One phone on the emulator, as a test drives it."""

    def __init__(self, stack, wa_id: str, name: str = "Cliente de prueba") -> None:
        self.stack, self.wa_id, self.name = stack, wa_id, name
        self.seen = 0
        self.sent: list[str] = []  # the wamids of what this customer sent

    def _post(self, action: dict) -> dict:
        response = httpx.post(
            f"{self.stack.emulator_url}/_emulator/customers/{self.wa_id}/messages",
            json={"name": self.name, **action}, timeout=10,
        )
        response.raise_for_status()
        self.sent.append(response.json()["id"])
        return response.json()

    def says(self, text: str) -> None:
        self._post({"type": "text", "text": text})

    def taps(self, message: dict, title: str) -> None:
        """Tap a reply button or pick a list row, by its visible title."""
        interactive = message["body"]["interactive"]
        if interactive["type"] == "button":
            choices = [b["reply"] for b in interactive["action"]["buttons"]]
            kind = "button_reply"
        else:
            choices = [row for section in interactive["action"]["sections"] for row in section["rows"]]
            kind = "list_reply"
        choice = next(c for c in choices if c["title"] == title)
        self._post({"type": kind, "message_id": message["id"], "id": choice["id"]})

    def received(self) -> list[dict]:
        response = httpx.get(f"{self.stack.emulator_url}/_emulator/messages", params={"to": self.wa_id}, timeout=10)
        return response.json()["messages"]

    def wait_for_replies(self, count: int, timeout: float = 60) -> list[dict]:
        """The next `count` messages the business sends this customer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.received()
            if len(messages) >= self.seen + count:
                new = messages[self.seen:self.seen + count]
                self.seen += count
                return new
            time.sleep(0.3)
        raise AssertionError(f"expected {count} new message(s), got {self.received()[self.seen:]}")

    def assert_no_reply(self, *wamids: str, timeout: float = 60) -> None:
        """Nothing new once the connector has handled every message this customer sent (and
        `wamids`, sent another way): a turn ends only after its replies reached the emulator."""
        ingest = Ingest(get_redis(self.stack.redis_url))
        deadline = time.monotonic() + timeout
        for wamid in (*self.sent, *wamids):
            while ingest.state(wamid) != DONE:
                assert time.monotonic() < deadline, f"{wamid} was not handled"
                time.sleep(0.1)
        assert self.received()[self.seen:] == []


def text_of(message: dict) -> str:
    body = message["body"]
    if body["type"] == "text":
        return body["text"]["body"]
    return body["interactive"]["body"]["text"]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_spanish_question_gets_the_spanish_answer_and_reply_buttons(stack, catalog):
    customer = Customer(stack, "5215512340001")
    customer.says("cuanto cuesta el envio??")
    answer, follow_up = customer.wait_for_replies(2)
    assert text_of(answer) == catalog.get("shipping_cost").answer("es")
    assert follow_up["body"]["type"] == "interactive"
    assert follow_up["body"]["interactive"]["type"] == "button"
    assert text_of(follow_up) == "¿Algo más?"


def test_english_question_gets_the_english_answer(stack, catalog):
    customer = Customer(stack, "5215512340002", "Test Customer")
    customer.says("how much is shipping to my place?")
    answer, follow_up = customer.wait_for_replies(2)
    assert text_of(answer) == catalog.get("shipping_cost").answer("en")
    assert text_of(follow_up) == "Anything else?"


def test_tapping_buttons_and_picking_a_list_row(stack, catalog):
    customer = Customer(stack, "5215512340003")
    customer.says("hola")
    replies = customer.wait_for_replies(2)
    menu = replies[-1]
    assert menu["body"]["interactive"]["type"] == "list"
    customer.taps(menu, "Formas de pago")
    answer, follow_up = customer.wait_for_replies(2)
    assert text_of(answer) == catalog.get("payment_methods").answer("es")
    customer.taps(follow_up, "Otra pregunta")
    (menu_again,) = customer.wait_for_replies(1)
    assert menu_again["body"]["interactive"]["type"] == "list"


def test_gibberish_is_not_answered_as_an_faq(stack, catalog):
    customer = Customer(stack, "5215512340004")
    customer.says("asdkjh qwe")
    (reply,) = customer.wait_for_replies(1)
    assert text_of(reply) not in {faq.answer(lang) for faq in catalog for lang in ("es", "en")}
    # Either "didn't understand" (nlu_fallback) or "can't help with that" (out_of_scope).
    assert text_of(reply).startswith(("Perdón, no te entendí", "Perdón, con eso no te puedo ayudar"))


def test_a_webhook_signed_by_hand_reaches_the_bot(stack, catalog):
    """Not through the emulator's chat: a Meta-shaped payload signed with the app secret."""
    wa_id = "5215512340005"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5215550000000", "phone_number_id": stack.env["WHATSAPP_PHONE_NUMBER_ID"]},
            "contacts": [{"profile": {"name": "Manual"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": "wamid.manual-1", "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": "where are your stores"}}],
        }}]}],
    }
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json",
               "X-Hub-Signature-256": sign(body, stack.env["WHATSAPP_APP_SECRET"])}
    unsigned = httpx.post(stack.webhook_url, content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert httpx.post(stack.webhook_url, content=body, headers=headers).status_code == 200
    # Meta retries: the same message again must not be answered twice.
    assert httpx.post(stack.webhook_url, content=body, headers=headers).status_code == 200
    customer = Customer(stack, wa_id)
    answer, _ = customer.wait_for_replies(2)
    assert text_of(answer) == catalog.get("store_locations").answer("en")
    customer.assert_no_reply("wamid.manual-1")
    # What Rasa's process counted, as Prometheus scrapes it (the stack's processes share one
    # metrics directory, as under the launcher).
    metrics = httpx.get(f"{stack.rasa_url}/webhooks/whatsapp/metrics", timeout=10)
    assert metrics.status_code == 200
    assert value(metrics.text, "whatsapp_webhooks_total", code="401") >= 1
    assert value(metrics.text, "whatsapp_inbound_messages_total", outcome="duplicate") >= 1
    assert value(metrics.text, "whatsapp_sends_total", outcome="sent") >= 2
    assert value(metrics.text, "whatsapp_turn_seconds_count", outcome="answered") >= 1


def test_language_is_remembered_across_ambiguous_messages(stack):
    customer = Customer(stack, "5215512340006", "Pat")
    customer.says("do you ship to the US?")
    customer.wait_for_replies(2)
    customer.says("ok")  # says nothing about the language: the conversation stays in English
    (menu,) = customer.wait_for_replies(1)
    assert text_of(menu).startswith("What can I help you with?")
    customer.says("y cuanto tarda el envio a monterrey")
    answer, follow_up = customer.wait_for_replies(2)
    assert text_of(follow_up) == "¿Algo más?"
