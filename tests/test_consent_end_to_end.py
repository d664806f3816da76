"""Opting out and back in, as a customer does it on the emulator: the commands the FAQ answer
promises (BAJA, STOP, ALTA…), in any conversation state, and WhatsApp's own "stop offers"
setting (Meta's user_preferences webhook)."""
from __future__ import annotations

import time

import httpx
import pytest

from bot.consent import CONFIRMATIONS, OPT_IN, OPT_OUT
from bot.content.catalog import load_catalog
from bot.handoff import Handoff
from connector.policy.consent import MARKETING, OPTED_IN, OPTED_OUT, ConsentRegister
from core.redis_conn import get_redis
from tests.test_end_to_end import Customer, text_of
from tests.test_handoff_end_to_end import console, path  # noqa: F401 (a fixture)

pytestmark = pytest.mark.model


def marketing(stack, wa_id: str):
    return ConsentRegister(get_redis(stack.redis_url)).status(wa_id)[MARKETING]


def test_baja_right_after_the_opt_out_answer_opts_out_and_alta_opts_back_in(stack):
    wa_id = "5215512340201"
    customer = Customer(stack, wa_id)
    customer.says("como me doy de baja")
    answer, _ = customer.wait_for_replies(2)
    assert text_of(answer) == load_catalog().get("whatsapp_opt_out").answer("es")

    customer.says("BAJA")
    (confirmation,) = customer.wait_for_replies(1)
    assert text_of(confirmation) == CONFIRMATIONS[OPT_OUT]["es"]
    state = marketing(stack, wa_id)
    assert (state.state, state.source, state.by) == (OPTED_OUT, "message", "customer")
    # Rasa's tracker (and so the event store) has the message and the reply, but no bot action:
    # the bot did not handle it, so its statistics and not-understood inbox leave it out.
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{wa_id}/tracker",
                        params={"token": stack.env["RASA_TOKEN"]}, timeout=10).json()
    events = tracker["events"]
    at = next(i for i, e in enumerate(events) if e["event"] == "user" and e.get("text") == "BAJA")
    assert events[at]["parse_data"]["intent"]["name"] == "consent_opt_out"
    assert [e["event"] for e in events[at + 1:]] == ["bot"]
    assert events[at + 1]["text"] == CONFIRMATIONS[OPT_OUT]["es"]

    customer.says("Alta, por favor")
    (again,) = customer.wait_for_replies(1)
    assert text_of(again) == CONFIRMATIONS[OPT_IN]["es"]
    assert marketing(stack, wa_id).state == OPTED_IN

    # The conversation goes on as before: the bot still answers questions.
    customer.says("cuanto cuesta el envio")
    answer, _ = customer.wait_for_replies(2)
    assert text_of(answer) == load_catalog().get("shipping_cost").answer("es")


def test_unsubscribe_cold_in_english_gets_the_english_confirmation(stack):
    wa_id = "5215512340202"
    customer = Customer(stack, wa_id, "Pat")
    customer.says("Unsubscribe, please!")
    (confirmation,) = customer.wait_for_replies(1)
    assert text_of(confirmation) == CONFIRMATIONS[OPT_OUT]["en"]
    assert marketing(stack, wa_id).state == OPTED_OUT
    customer.assert_no_reply()  # no "didn't understand" after it


def test_stop_while_waiting_for_a_person_is_honoured_and_the_agent_sees_it(stack, console):  # noqa: F811
    wa_id = "5215512340203"
    customer = Customer(stack, wa_id, "Lucía")
    handoff = Handoff(get_redis(stack.redis_url))
    customer.says("quiero hablar con un asesor")
    customer.wait_for_replies(1)
    assert handoff.state(wa_id).state == "queued"

    customer.says("STOP")
    (confirmation,) = customer.wait_for_replies(1)
    assert text_of(confirmation) == CONFIRMATIONS[OPT_OUT]["es"]
    assert marketing(stack, wa_id).state == OPTED_OUT
    chat = handoff.state(wa_id)
    assert (chat.state, chat.last_message) == ("queued", "STOP")  # still waiting; the agent sees it

    assert "Lucía" in console.get("/").get_data(as_text=True)  # the queue lists her (and links her page)
    page = console.get(path(wa_id)).get_data(as_text=True)
    assert "Marketing" in page and "opted out" in page and "a message to the business" in page


def test_the_opt_out_button_of_a_marketing_template_opts_out(stack):
    wa_id = "5215512340205"
    customer = Customer(stack, wa_id, "Rosa")
    customer.says("hola")  # a conversation, so the template has someone to go to
    customer.wait_for_replies(2)
    sent = httpx.post(
        f"{stack.emulator_url}/v23.0/{stack.env['WHATSAPP_PHONE_NUMBER_ID']}/messages",
        headers={"Authorization": f"Bearer {stack.env['WHATSAPP_ACCESS_TOKEN']}"}, timeout=10,
        json={"messaging_product": "whatsapp", "to": wa_id, "type": "template", "template": {
            "name": "reengage_es", "language": {"code": "es_MX"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Rosa"}]}]}})
    sent.raise_for_status()
    (template,) = customer.wait_for_replies(1)
    customer._post({"type": "button", "message_id": template["id"], "index": 2})  # "Dejar de recibir"
    (confirmation,) = customer.wait_for_replies(1)
    assert text_of(confirmation) == CONFIRMATIONS[OPT_OUT]["es"]
    state = marketing(stack, wa_id)
    assert (state.state, state.source) == (OPTED_OUT, "template_button")


def emulator_preference(stack, wa_id: str, value: str) -> None:
    response = httpx.post(f"{stack.emulator_url}/_emulator/customers/{wa_id}/preferences",
                          json={"value": value}, timeout=10)
    response.raise_for_status()


def test_stopping_offers_in_whatsapps_settings_is_recorded(stack):
    wa_id = "5215512340204"
    customer = Customer(stack, wa_id)
    emulator_preference(stack, wa_id, "stop")
    deadline = time.monotonic() + 20
    while marketing(stack, wa_id).state != OPTED_OUT:
        assert time.monotonic() < deadline, "the user_preferences webhook was not recorded"
        time.sleep(0.2)
    assert marketing(stack, wa_id).source == "whatsapp_settings"
    emulator_preference(stack, wa_id, "resume")
    while marketing(stack, wa_id).state != OPTED_IN:
        assert time.monotonic() < deadline, "the resume was not recorded"
        time.sleep(0.2)
    # WhatsApp itself told the customer; the bot says nothing (no message of theirs to wait for).
    time.sleep(1)
    assert customer.received() == []
