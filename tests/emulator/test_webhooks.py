"""Webhooks to the connector: signatures, status sequence, the 24 h window, retries, shapes."""
from __future__ import annotations

import pytest

from tests.emulator.conftest import CUSTOMER, valid_signature, wait_for


def statuses_of(receiver, message_id, n, timeout=5.0):
    return wait_for(lambda: (s := receiver.statuses(message_id)) and len(s) >= n and s,
                    timeout, f"{n} status webhooks for {message_id}")


def test_customer_text_becomes_a_signed_meta_webhook(emu, receiver):
    sent = emu.customer({"type": "text", "text": "¿Hacen envíos a Monterrey?", "name": "Ana López"})
    hit = wait_for(lambda: receiver.hits and receiver.hits[0], what="webhook")
    assert valid_signature(hit["raw"], hit["headers"].get("X-Hub-Signature-256"))
    assert not valid_signature(hit["raw"] + b" ", hit["headers"].get("X-Hub-Signature-256"))
    assert hit["headers"]["Content-Type"] == "application/json"
    value = hit["json"]["entry"][0]["changes"][0]["value"]
    assert hit["json"]["object"] == "whatsapp_business_account"
    assert hit["json"]["entry"][0]["changes"][0]["field"] == "messages"
    assert value["metadata"] == {"display_phone_number": emu.settings.display_phone_number,
                                 "phone_number_id": emu.settings.phone_number_id}
    assert value["contacts"] == [{"profile": {"name": "Ana López"}, "wa_id": CUSTOMER}]
    message = value["messages"][0]
    assert message["id"] == sent["id"] and message["from"] == CUSTOMER
    assert message["type"] == "text" and message["text"] == {"body": "¿Hacen envíos a Monterrey?"}
    assert message["timestamp"].isdigit()
    # Non-ASCII is escaped like Meta's bodies, and the signature covers those exact bytes.
    assert b"\\u00bf" in hit["raw"]
    # The connector answered 200, so the customer's message shows two ticks.
    chat = wait_for(lambda: (c := emu.client.get(f"{emu.base}/_emulator/customers/{CUSTOMER}/chat")
                             .json()) and c["messages"][0]["status"] == "delivered" and c)
    assert chat["messages"][0]["direction"] == "in"


def test_reply_inside_window_gets_sent_delivered_read(emu, receiver):
    emu.customer({"type": "text", "text": "hola"})
    response = emu.send(emu.text("¡Hola! ¿En qué te ayudo?"))
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    sent, delivered = statuses_of(receiver, wamid, 2)
    assert [sent["status"], delivered["status"]] == ["sent", "delivered"]
    for st in (sent, delivered):
        assert st["recipient_id"] == CUSTOMER and st["timestamp"].isdigit()
        assert st["pricing"] == {"billable": False, "pricing_model": "PMP", "category": "service",
                                 "type": "free_customer_service"}
        assert st["conversation"]["origin"] == {"type": "service"}
    assert int(sent["conversation"]["expiration_timestamp"]) > int(sent["timestamp"])
    # The customer's page displays it: read.
    seen = emu.client.post(f"{emu.base}/_emulator/customers/{CUSTOMER}/seen", json={"ids": [wamid]})
    assert seen.json() == {"read": 1}
    read = statuses_of(receiver, wamid, 3)[2]
    assert read["status"] == "read" and "pricing" not in read
    for hit in receiver.hits:
        assert valid_signature(hit["raw"], hit["headers"]["X-Hub-Signature-256"])
    # The customer's own message turned read (blue ticks) once the business replied.
    chat = emu.client.get(f"{emu.base}/_emulator/customers/{CUSTOMER}/chat").json()
    assert chat["messages"][0]["status"] == "read"


def test_auto_read_after_delay(emulator_factory, receiver):
    emu = emulator_factory(auto_read_delay=0.2)
    emu.customer({"type": "text", "text": "hola"})
    wamid = emu.send(emu.text()).json()["messages"][0]["id"]
    assert [s["status"] for s in statuses_of(receiver, wamid, 3)] == ["sent", "delivered", "read"]


def test_free_form_outside_window_is_accepted_then_fails_131047(emu, receiver):
    # Never wrote to us: no window at all.
    response = emu.send(emu.text("¿Sigues ahí?"))
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    [failed] = statuses_of(receiver, wamid, 1)
    assert failed["status"] == "failed" and failed["recipient_id"] == CUSTOMER
    [error] = failed["errors"]
    assert error["code"] == 131047 and error["title"] == "Re-engagement message"
    assert "24 hours" in error["error_data"]["details"]
    [msg] = emu.client.get(f"{emu.base}/_emulator/messages", params={"to": CUSTOMER}).json()["messages"]
    assert msg["status"] == "failed" and msg["error_title"] == "Re-engagement message"


def test_window_closes_after_24h_of_emulated_time_and_templates_still_go(emu, receiver):
    emu.customer({"type": "text", "text": "hola"})
    assert emu.send(emu.text("dentro")).status_code == 200
    clock = emu.client.post(f"{emu.base}/_emulator/clock", json={"advance_seconds": 23 * 3600}).json()
    assert clock["offset_seconds"] == 23 * 3600
    inside = emu.send(emu.text("todavía dentro")).json()["messages"][0]["id"]
    emu.client.post(f"{emu.base}/_emulator/clock", json={"advance_seconds": 3601})
    outside = emu.send(emu.text("fuera")).json()["messages"][0]["id"]
    template = emu.send({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template",
                         "template": {"name": "reengage_es", "language": {"code": "es_MX"},
                                      "components": [{"type": "body", "parameters": [
                                          {"type": "text", "text": "Ana"}]}]}})
    assert template.status_code == 200
    tid = template.json()["messages"][0]["id"]
    assert statuses_of(receiver, inside, 2)[0]["status"] == "sent"
    assert statuses_of(receiver, outside, 1)[0]["errors"][0]["code"] == 131047
    sent = statuses_of(receiver, tid, 1)[0]
    assert sent["status"] == "sent" and sent["pricing"]["category"] == "marketing"
    assert sent["pricing"]["billable"] is True
    # A new message from the customer reopens the window.
    emu.customer({"type": "text", "text": "sí"})
    again = emu.send(emu.text("de nuevo")).json()["messages"][0]["id"]
    assert statuses_of(receiver, again, 1)[0]["status"] == "sent"


def test_clock_can_be_set_and_reset(emu):
    r = emu.client.post(f"{emu.base}/_emulator/clock", json={"now": 2_000_000_000}).json()
    assert abs(r["now"] - 2_000_000_000) <= 1
    assert emu.client.post(f"{emu.base}/_emulator/clock", json={"reset": True}).json()["offset_seconds"] == 0
    assert emu.client.post(f"{emu.base}/_emulator/clock", json={}).status_code == 400


def test_connector_5xx_is_retried_with_the_same_signed_body(emu, receiver):
    receiver.script = [500, 503]
    emu.customer({"type": "text", "text": "hola"})
    wait_for(lambda: len(receiver.hits) >= 3, what="two retries")
    first, second, third = receiver.hits[:3]
    assert [h["answered"] for h in (first, second, third)] == [500, 503, 200]
    assert first["raw"] == second["raw"] == third["raw"]
    assert all(valid_signature(h["raw"], h["headers"]["X-Hub-Signature-256"]) for h in (first, second, third))
    log = emu.client.get(f"{emu.base}/_emulator/webhooks").json()["webhooks"]
    assert log[0]["attempts"] == 3 and log[0]["result"] == "delivered"


def test_retries_give_up_after_the_configured_attempts(emu, receiver):
    receiver.script = [500] * 10
    emu.customer({"type": "text", "text": "hola"})
    wait_for(lambda: emu.client.get(f"{emu.base}/_emulator/webhooks").json()["webhooks"][0]["result"]
             == "failed", what="give up")
    assert len(receiver.hits) == emu.settings.webhook_attempts


def test_4xx_from_connector_is_not_retried(emu, receiver):
    receiver.script = [403]
    emu.customer({"type": "text", "text": "hola"})
    wait_for(lambda: emu.client.get(f"{emu.base}/_emulator/webhooks").json()["webhooks"][0]["result"]
             == "failed", what="rejection")
    assert len(receiver.hits) == 1


def _bot_buttons(emu):
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive",
            "interactive": {"type": "button", "body": {"text": "¿Algo más?"}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": "cancel-button", "title": "Cancel"}},
                {"type": "reply", "reply": {"id": "ok", "title": "OK"}}]}}}
    return emu.send(body).json()["messages"][0]["id"]


def _bot_list(emu):
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive",
            "interactive": {"type": "list", "body": {"text": "Elige"}, "action": {
                "button": "Ver opciones", "sections": [{"title": "Envíos", "rows": [
                    {"id": "priority_express", "title": "Priority Mail Express",
                     "description": "Next Day to 2 Days"}]}]}}}
    return emu.send(body).json()["messages"][0]["id"]


def _shape(value):
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


@pytest.mark.parametrize("example,action", [
    ("Text Message", lambda emu: {"type": "text", "text": "Does it come in another color?"}),
    ("Reaction Message", lambda emu: {"type": "reaction", "message_id": _bot_buttons(emu), "emoji": "👍"}),
    ("Image Message", lambda emu: {"type": "image", "sample": True, "caption": "Taj Mahal"}),
    ("Location Message", lambda emu: {"type": "location", "location": {
        "latitude": 37.44, "longitude": -122.16, "name": "Philz Coffee",
        "address": "101 Forest Ave", "url": "https://philzcoffee.com/"}}),
    ("Interactive Button Reply Message",
     lambda emu: {"type": "button_reply", "message_id": _bot_buttons(emu), "id": "cancel-button"}),
    ("Interactive List Reply Message",
     lambda emu: {"type": "list_reply", "message_id": _bot_list(emu), "id": "priority_express"}),
])
def test_customer_webhooks_have_the_shape_of_metas_examples(emu, receiver, webhook_examples,
                                                            example, action):
    emu.customer({"type": "text", "text": "hola", "name": "Sheena Nelson"})  # opens the window
    ours = emu.customer({**action(emu), "name": "Sheena Nelson"})["webhook"]
    theirs = webhook_examples[example]
    assert _shape(ours) == _shape(theirs)
    got = ours["entry"][0]["changes"][0]["value"]["messages"][0]
    want = theirs["entry"][0]["changes"][0]["value"]["messages"][0]
    assert got["type"] == want["type"]
    if example.startswith("Interactive"):
        kind = want["interactive"]["type"]
        assert got["interactive"][kind] == want["interactive"][kind]
        assert got["context"]["from"] == emu.settings.display_phone_number


def test_template_quick_reply_matches_metas_button_example(emu, receiver, webhook_examples):
    emu.customer({"type": "text", "text": "hola"})
    tid = emu.send({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template",
                    "template": {"name": "reengage_en", "language": {"code": "en_US"}, "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
                        {"type": "button", "sub_type": "quick_reply", "index": "1",
                         "parameters": [{"type": "payload", "payload": "STOP"}]}]}}
                   ).json()["messages"][0]["id"]
    ours = emu.customer({"type": "button", "message_id": tid, "index": 1})["webhook"]
    assert _shape(ours) == _shape(webhook_examples["Button Message"])
    message = ours["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["button"] == {"payload": "STOP", "text": "No, thanks"}


def test_reply_to_an_id_the_bot_never_sent_is_refused(emu):
    mid = _bot_buttons(emu)
    response = emu.client.post(f"{emu.base}/_emulator/customers/{CUSTOMER}/messages",
                               json={"type": "button_reply", "message_id": mid, "id": "nope"})
    assert response.status_code == 400


def test_status_webhooks_validate_against_the_spec(emu, receiver, spec):
    from openapi_schema_validator import OAS30Validator

    emu.customer({"type": "text", "text": "hola"})
    ok = emu.send(emu.text()).json()["messages"][0]["id"]
    emu.client.post(f"{emu.base}/_emulator/clock", json={"advance_seconds": 2 * 86400})
    bad = emu.send(emu.text()).json()["messages"][0]["id"]
    statuses_of(receiver, ok, 2)
    statuses_of(receiver, bad, 1)
    schema = {**spec["components"]["schemas"]["StatusMessageValue"],
              "components": spec["components"]}
    validator = OAS30Validator(schema)
    checked = 0
    for body in receiver.bodies():
        value = body["entry"][0]["changes"][0]["value"]
        if "statuses" in value:
            validator.validate(value)
            checked += 1
    assert checked >= 3


def test_a_customer_stopping_offers_in_whatsapps_settings_sends_metas_user_preferences(emu, receiver):
    response = emu.client.post(f"{emu.base}/_emulator/customers/{CUSTOMER}/preferences", json={"value": "stop"})
    assert response.status_code == 200, response.text
    hit = wait_for(lambda: receiver.hits and receiver.hits[0], what="the user_preferences webhook")
    assert valid_signature(hit["raw"], hit["headers"].get("X-Hub-Signature-256"))
    (change,) = hit["json"]["entry"][0]["changes"]
    assert change["field"] == "user_preferences"
    (choice,) = change["value"]["user_preferences"]
    assert (choice["wa_id"], choice["category"], choice["value"]) == (CUSTOMER, "marketing_messages", "stop")
    assert choice["detail"] == "User requested to stop marketing messages" and isinstance(choice["timestamp"], int)
    assert emu.client.post(f"{emu.base}/_emulator/customers/{CUSTOMER}/preferences",
                           json={"value": "maybe"}).status_code == 400


def test_account_level_webhooks_are_metas_shape_dated_by_the_entry(emu, receiver):
    response = emu.client.post(f"{emu.base}/_emulator/account/phone_number_quality_update",
                               json={"event": "FLAGGED", "limit": "TIER_10K"})
    assert response.status_code == 200, response.text
    hit = wait_for(lambda: receiver.hits and receiver.hits[0], what="the quality webhook")
    assert valid_signature(hit["raw"], hit["headers"].get("X-Hub-Signature-256"))
    (entry,) = hit["json"]["entry"]
    assert isinstance(entry["time"], int)
    (change,) = entry["changes"]
    assert change["field"] == "phone_number_quality_update" and "metadata" not in change["value"]
    assert (change["value"]["event"], change["value"]["max_daily_conversations_per_business"]) == (
        "FLAGGED", "TIER_10K")
    restriction = [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": "2026-01-12T12:00:00+0000"}]
    response = emu.client.post(f"{emu.base}/_emulator/account/account_update",
                               json={"event": "ACCOUNT_RESTRICTION", "restriction_info": restriction, "x": 1})
    assert response.json()["webhook"]["entry"][0]["changes"][0]["value"] == {
        "event": "ACCOUNT_RESTRICTION", "restriction_info": restriction}
    assert emu.client.post(f"{emu.base}/_emulator/account/account_update", json={"event": "NOPE"}).status_code == 400
    assert emu.client.post(f"{emu.base}/_emulator/account/other_field", json={}).status_code == 404
