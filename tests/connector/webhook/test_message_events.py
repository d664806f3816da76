"""Meta's messages that are events, not questions: edit, revoke, call-permission reply, the chat
opened. Shapes from Meta's webhook reference (messages/edit, messages/revoke, calling);
../shared/whatsapp/webhook_examples.json has no example of them, so they are written here."""
from __future__ import annotations

import datetime as dt

from bot import customer_events as ce
from connector.channel.recorded import customer_event
from connector.channel.turns import WELCOME_PAYLOAD, rasa_text
from connector.webhook.inbound import parse_webhook

WA_ID = "16505551234"


def webhook(message: dict) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": WA_ID}],
            "messages": [{"from": WA_ID, "id": "wamid.EVENT", "timestamp": "1750096325", **message}]}}]}]}


def parsed(message: dict):
    batch = parse_webhook(webhook(message))
    assert not batch.rejected and len(batch.messages) == 1
    return batch.messages[0]


def test_an_edit_carries_the_original_id_and_the_new_text_and_gets_no_reply():
    message = parsed({"type": "edit", "edit": {"original_message_id": "wamid.ORIG", "message": {
        "context": {"id": "wamid.ORIG"}, "type": "text", "text": {"body": "talla 27, no 26"}}}})
    assert message.kind == "edit" and message.edit.original_message_id == "wamid.ORIG"
    assert (message.edit.text, message.edit.kind, message.text) == ("talla 27, no 26", "text", "talla 27, no 26")
    assert rasa_text(message) is None
    event = customer_event(message)
    assert (event.kind, event.target, event.text, event.id) == ("edit", "wamid.ORIG", "talla 27, no 26", "wamid.EVENT")


def test_an_edited_caption_reads_like_a_caption():
    message = parsed({"type": "edit", "edit": {"original_message_id": "wamid.IMG", "message": {
        "type": "image", "image": {"id": "1", "mime_type": "image/jpeg", "caption": "la caja llegó rota"}}}})
    assert (message.edit.kind, message.edit.text) == ("image", "la caja llegó rota")


def test_a_revoke_names_the_deleted_message_and_gets_no_reply():
    message = parsed({"type": "revoke", "revoke": {"original_message_id": "wamid.ORIG"}})
    assert message.kind == "revoke" and message.revoke.original_message_id == "wamid.ORIG"
    assert rasa_text(message) is None
    assert customer_event(message).target == "wamid.ORIG"


def test_an_edit_or_revoke_without_the_original_is_recorded_as_unknown_not_answered():
    for message in (parsed({"type": "edit", "edit": {"message": {"type": "text", "text": {"body": "x"}}}}),
                    parsed({"type": "revoke", "revoke": {}})):
        assert message.kind == "unknown" and rasa_text(message) is None
        assert customer_event(message).value in ("edit", "revoke")


def test_a_call_permission_reply_is_recorded_with_its_expiry():
    message = parsed({"type": "interactive", "interactive": {"type": "call_permission_reply", "call_permission_reply": {
        "response": "accept", "is_permanent": False, "expiration_timestamp": 1750700000,
        "response_source": "user_action"}}})
    assert message.kind == "call_permission_reply" and rasa_text(message) is None
    permission = message.call_permission
    assert (permission.accepted, permission.permanent, permission.source) == (True, False, "user_action")
    assert permission.expires_at == dt.datetime.fromtimestamp(1750700000, dt.timezone.utc)
    event = customer_event(message)
    assert (event.value, event.until) == ("accept", 1750700000.0)
    assert ce.label(event) == "Customer allowed calls until 2025-06-23 17:33 UTC"
    rejected = parsed({"type": "interactive", "interactive": {"type": "call_permission_reply", "call_permission_reply": {
        "response": "reject", "response_source": "user_action"}}})
    assert ce.label(customer_event(rejected)) == "Customer declined calls"


def test_request_welcome_is_greeted_like_a_hello():
    message = parsed({"type": "request_welcome"})
    assert message.kind == "request_welcome"
    assert rasa_text(message) == WELCOME_PAYLOAD == "/greet"
    assert customer_event(message) is None  # a conversation turn of its own, in Rasa's tracker
