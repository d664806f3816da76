"""The bot keeps its promises, through the whole product: an order reaches the queue with its
lines and total as the answer says; edits, deletions and call-permission replies get no reply
and show in the agent's history."""
from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import yaml

from bot import consent as consent_words
from bot.content.catalog import load_catalog
from bot.handoff import Handoff
from connector.channel.turns import BACK_TO_BOT_WORDS
from core.redis_conn import get_redis
from tests.test_end_to_end import Customer, text_of
from tests.test_handoff_end_to_end import console, path  # noqa: F401  (console is a fixture)

pytestmark = pytest.mark.model
ROOT = Path(__file__).resolve().parents[1]

ORDER_ITEMS = [{"product_retailer_id": "di9ozbzfi4", "quantity": 2, "item_price": 30, "currency": "MXN"},
               {"product_retailer_id": "nqryix03ez", "quantity": 1, "item_price": 25.5, "currency": "MXN"}]


def test_an_order_is_queued_with_its_total_and_edits_deletions_and_call_permissions_are_shown_not_answered(
        stack, console):  # noqa: F811
    """One customer: writes, edits it, allows calls, deletes it, then orders from the catalogue.
    Meta (and the emulator) deliver one customer's webhooks in order and the connector handles
    a conversation's messages in order, so had any of the three events been answered, that
    reply would come before the order's."""
    wa_id = "5215512340401"  # every end-to-end customer has their own number: the stack is shared
    customer = Customer(stack, wa_id, "Sheena")
    first = customer._post({"type": "text", "text": "hola"})["id"]  # greeting and menu: two replies
    customer._post({"type": "edit", "message_id": first, "text": "hola, busco talla 27"})
    customer._post({"type": "call_permission_reply", "response": "accept"})
    customer._post({"type": "revoke", "message_id": first})
    customer._post({"type": "order", "items": ORDER_ITEMS})  # on the emulator, shaped as Meta sends it
    greeting, _menu, order_thanks, queued = customer.wait_for_replies(4)
    assert text_of(greeting).startswith("¡Hola!"), text_of(greeting)
    assert text_of(order_thanks) == ("¡Gracias por tu pedido 🛍️! Una persona de nuestro equipo lo confirmará "
                                     "y te enviará aquí los datos de pago.")
    assert "Te comunico con una persona" in text_of(queued)

    chat = Handoff(get_redis(stack.redis_url)).state(wa_id)
    assert (chat.state, chat.reason) == ("queued", "order")
    assert chat.last_message == "Order, total MXN 85.50: 2 × di9ozbzfi4; 1 × nqryix03ez"
    assert "Order, total MXN 85.50" in console.get("/").get_data(as_text=True)  # the queue row
    page = console.get(path(wa_id) + "/history").get_data(as_text=True)
    assert "Catalogue order" in page and "[order]" not in page
    for shown in ("di9ozbzfi4", "MXN 30.00", "MXN 60.00", "nqryix03ez", "MXN 25.50", "MXN 85.50"):
        assert shown in page
    assert "hola, busco talla 27" in page and "edited by the customer" in page
    assert "deleted by the customer" in page and "msg-deleted" in page  # struck through, still readable
    assert "Customer allowed calls" in page
    assert "no es compatible" not in page


# "write *agent*", "escribe *asesor*", "type *menu*", "reply *STOP*", "responde *BAJA*"
ASKED_TO_TYPE = re.compile(r"\b(?:write|type|reply|escribe|responde)\s+\*([^*]+)\*", re.IGNORECASE)


def test_every_word_the_bot_tells_customers_to_type_does_what_it_says(stack):
    """Each word a response or FAQ answer tells the customer to type is a consent command, or
    what the trained model reads as asking for a person or the menu; a menu word also takes a
    waiting customer out of the queue, as the queue's texts say."""
    texts = [v.get("text") or "" for vs in yaml.safe_load((ROOT / "domain.yml").read_text())["responses"].values()
             for v in vs]
    texts += [faq.answer(language) for faq in load_catalog() for language in ("es", "en")]
    words = {word for text in texts for word in ASKED_TO_TYPE.findall(text)}
    assert {"agent", "asesor", "menu", "menú"} <= words, words
    for word in sorted(words):
        if consent_words.command(word) is not None:
            continue
        parsed = httpx.post(f"{stack.rasa_url}/model/parse", params={"token": stack.env["RASA_TOKEN"]},
                            json={"text": word}, timeout=10).json()
        intent = parsed["intent"]["name"]
        assert intent in ("human_handoff", "main_menu"), (word, intent)
        if intent == "main_menu":
            assert word.lower() in BACK_TO_BOT_WORDS, word
