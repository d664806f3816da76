"""A catalogue order queues the chat with its lines and total; after hours the queue keeps it and
the customer is told when we open (the after-hours handoff), after the order's own answer."""
from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from bot.handoff import Handoff
from tests.actions.test_hours_actions import NEVER, handoff_actions, hours_file, tracker  # noqa: F401

ORDER = {"catalog_id": "1", "text": "", "items": [
    {"product_retailer_id": "SKU-1", "quantity": 2, "item_price": 499, "currency": "MXN"}]}


def test_an_order_after_hours_is_queued_with_its_total_and_the_customer_told_when_we_open(
        handoff_actions, hours_file, redis_client, monkeypatch):  # noqa: F811
    hours_file.write_text(NEVER)
    monkeypatch.setattr(handoff_actions, "_redis", lambda: redis_client)
    latest = {"text": "/order_received", "metadata": {"whatsapp": {"kind": "order", "name": "Sheena", "order": ORDER}}}
    dispatcher = CollectingDispatcher()
    events = handoff_actions.ActionOrder().run(dispatcher, tracker("es", latest), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_order_received", "utter_handoff_after_hours"]
    assert events[0]["event"] == "pause"
    chat = Handoff(redis_client).state("5215500000000")
    assert (chat.state, chat.reason, chat.name) == ("queued", "order (after hours)", "Sheena")
    assert chat.last_message == "Order, total MXN 998.00: 2 × SKU-1"
