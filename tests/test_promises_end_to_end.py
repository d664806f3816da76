"""The bot keeps its promises, through the whole product: an order reaches the queue with its
lines and total as the answer says; edits, deletions and call-permission replies get no reply
and show in the agent's history."""
from __future__ import annotations

import json
import time

import httpx
import pytest

from bot.handoff import Handoff
from connector.webhook.signature import sign
from core.redis_conn import get_redis
from tests.test_end_to_end import Customer, text_of
from tests.test_handoff_end_to_end import console, path  # noqa: F401  (console is a fixture)

pytestmark = pytest.mark.model

ORDER_ITEMS = [{"product_retailer_id": "di9ozbzfi4", "quantity": 2, "item_price": 30, "currency": "MXN"},
               {"product_retailer_id": "nqryix03ez", "quantity": 1, "item_price": 25.5, "currency": "MXN"}]


def signed_post(stack, wa_id: str, message: dict) -> None:
    """A Meta-shaped webhook (its order example, for our number), signed as Meta signs."""
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5215550000000", "phone_number_id": stack.env["WHATSAPP_PHONE_NUMBER_ID"]},
        "contacts": [{"profile": {"name": "Sheena"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "timestamp": str(int(time.time())), **message}]}}]}]}
    body = json.dumps(payload).encode()
    response = httpx.post(stack.webhook_url, content=body, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(body, stack.env["WHATSAPP_APP_SECRET"])})
    assert response.status_code == 200


def test_an_order_reaches_the_queue_with_its_items_and_total(stack, console):  # noqa: F811
    wa_id = "5215512340201"
    customer = Customer(stack, wa_id, "Sheena")
    signed_post(stack, wa_id, {"id": "wamid.order-1", "type": "order", "order": {
        "catalog_id": "194836987003835", "text": "", "product_items": ORDER_ITEMS}})
    thanks, queued = customer.wait_for_replies(2)
    assert text_of(thanks) == ("¡Gracias por tu pedido 🛍️! Una persona de nuestro equipo lo confirmará "
                               "y te enviará aquí los datos de pago.")
    assert "Te comunico con una persona" in text_of(queued)
    chat = Handoff(get_redis(stack.redis_url)).state(wa_id)
    assert (chat.state, chat.reason) == ("queued", "order")
    assert chat.last_message == "Order, total MXN 85.50: 2 × di9ozbzfi4; 1 × nqryix03ez"
    assert "Order, total MXN 85.50" in console.get("/").get_data(as_text=True)  # the queue row
    page = console.get(path(wa_id)).get_data(as_text=True)
    assert "Catalogue order" in page and "[order]" not in page
    for shown in ("di9ozbzfi4", "MXN 30.00", "MXN 60.00", "nqryix03ez", "MXN 25.50", "MXN 85.50"):
        assert shown in page


def test_edit_revoke_and_call_permission_get_no_reply_and_show_in_the_history(stack, console):  # noqa: F811
    wa_id = "5215512340202"
    customer = Customer(stack, wa_id, "Lu")
    first = customer._post({"type": "text", "text": "gracias"})["id"]
    customer.wait_for_replies(1)
    second = customer._post({"type": "text", "text": "mil gracias"})["id"]
    customer.wait_for_replies(1)
    customer._post({"type": "edit", "message_id": first, "text": "gracias, talla 27"})
    customer._post({"type": "revoke", "message_id": second})
    customer._post({"type": "call_permission_reply", "response": "accept"})
    # Each conversation's messages are handled in order: had any of the three been answered,
    # that reply would come before the answer to this one.
    customer.says("hola")
    greeting, _menu = customer.wait_for_replies(2)
    assert text_of(greeting).startswith("¡Hola!"), text_of(greeting)
    customer.says("quiero hablar con un asesor")  # the desk shows chats a person is asked for
    customer.wait_for_replies(1)
    page = console.get(path(wa_id)).get_data(as_text=True)
    assert "gracias, talla 27" in page and "edited by the customer" in page
    assert "deleted by the customer" in page and "msg-deleted" in page
    assert "mil gracias" in page  # struck through, still readable for the agent
    assert "Customer allowed calls" in page
    assert "isn&#39;t supported" not in page and "no es compatible" not in page
