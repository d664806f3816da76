"""What the actions promise, kept at any hour: a catalogue order queues the chat with its lines and
total (after hours the queue keeps it and the customer is told when we open, after the order's
own answer), and "I can answer your questions in the meantime" (the after-hours notice) holds:
the FAQ answer does not wait for opening hours."""
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


def test_after_hours_the_bot_still_answers_questions_as_its_notice_says(handoff_actions, hours_file):  # noqa: F811
    import actions.faq as faq_actions

    hours_file.write_text(NEVER)
    typed = {"text": "cuanto cuesta el envio", "response_selector": {
        "faq": {"response": {"intent_response_key": "faq/shipping_cost"}}}}
    domain = {"responses": {"utter_faq/shipping_cost": [{"text": "El envío cuesta…"}]}}
    dispatcher = CollectingDispatcher()
    faq_actions.ActionAnswerFaq().run(dispatcher, tracker("es", typed), domain)
    assert dispatcher.messages[0]["response"] == "utter_faq/shipping_cost"
