"""Handoff through the whole product: the customer asks for a person on the emulator, the bot
goes silent, an agent claims and answers from the console, resolves, and the bot is back."""
from __future__ import annotations

import pytest

from bot.handoff import Handoff
from core.redis_conn import get_redis
from console import create_app
from console.refs import ConversationRefs
from console.auth.users import UserStore
from tests.console.conftest import csrf_token, login
from bot.content.catalog import load_catalog
from tests.test_end_to_end import Customer, text_of

pytestmark = pytest.mark.model

SECRET = "e2e-console-secret"


@pytest.fixture
def console(stack):
    redis = get_redis(stack.redis_url)
    UserStore(redis).create("ana", "agent", "ana-secret-pass-1", replace=True)
    app = create_app({
        "REDIS": redis, "RASA_URL": stack.rasa_url, "RASA_TOKEN": stack.env["RASA_TOKEN"],
        "SECRET_KEY": SECRET, "TESTING": True,
    })
    client = app.test_client()
    assert login(client, "ana", "ana-secret-pass-1").status_code == 302
    client.csrf = csrf_token(client, "/")
    return client


def path(conv: str) -> str:
    return "/c/" + ConversationRefs(None, SECRET).compute(conv)


def test_handoff_silence_agent_reply_resolve_and_the_bot_is_back(stack, console):
    catalog = load_catalog()
    wa_id = "5215512340099"
    customer = Customer(stack, wa_id, "María")
    handoff = Handoff(get_redis(stack.redis_url))

    customer.says("quiero hablar con un asesor")
    (queued,) = customer.wait_for_replies(1)
    assert "Te comunico con una persona" in text_of(queued)
    assert handoff.state(wa_id).state == "queued"

    # While waiting, the bot stays silent; the message reaches the queue for agents.
    customer.says("es sobre mi pedido 10482, llego roto")
    customer.assert_no_reply()
    assert handoff.state(wa_id).last_message == "es sobre mi pedido 10482, llego roto"

    assert "María" in console.get("/").get_data(as_text=True)  # the live queue lists her
    assert console.post(f"/claim/{path(wa_id)[3:]}", data={"csrf_token": console.csrf}).status_code in (302, 303)
    assert handoff.state(wa_id).state == "assigned"

    reply = console.post(f"{path(wa_id)}/reply", data={"text": "Hola María, soy Ana. Lo reviso.",
                                                      "csrf_token": console.csrf})
    assert reply.status_code in (302, 303), reply.get_data(as_text=True)
    (agent_message,) = customer.wait_for_replies(1)
    assert text_of(agent_message) == "Hola María, soy Ana. Lo reviso."

    # Typing "menu" while an agent has the chat does not take it from the agent.
    customer.says("menu")
    customer.assert_no_reply()

    # "menu" went to the agent and has no answer: resolving asks first, then resolves when confirmed.
    assert console.post(f"{path(wa_id)}/resolve", data={"csrf_token": console.csrf}).status_code == 409
    assert console.post(f"{path(wa_id)}/resolve",
                        data={"csrf_token": console.csrf, "confirm": "1"}).status_code in (302, 303)
    closing, survey = customer.wait_for_replies(2)
    assert handoff.state(wa_id).state == "bot"
    assert closing["body"]["type"] == "text"
    assert survey["body"]["interactive"]["type"] == "button"  # the satisfaction question

    customer.says("cuanto cuesta el envio")
    answer, follow_up = customer.wait_for_replies(2)
    assert text_of(answer) == catalog.get("shipping_cost").answer("es")


def test_waiting_customer_goes_back_to_the_bot(stack):
    wa_id = "5215512340098"
    customer = Customer(stack, wa_id)
    customer.says("necesito hablar con una persona")
    (queued,) = customer.wait_for_replies(1)
    customer.taps(queued, "Volver al menú")
    (menu,) = customer.wait_for_replies(1)
    assert menu["body"]["interactive"]["type"] == "list"
    assert Handoff(get_redis(stack.redis_url)).state(wa_id).state == "bot"


def test_two_misunderstandings_in_a_row_hand_off(stack):
    wa_id = "5215512340097"
    customer = Customer(stack, wa_id)
    customer.says("zxqv plmk trrr")
    (first,) = customer.wait_for_replies(1)
    assert "Hablar con persona" in str(first["body"])  # the bot offered a person first
    customer.says("qwpo zmxn vbvb")
    (second,) = customer.wait_for_replies(1)
    assert "Te comunico con una persona" in text_of(second)
    assert Handoff(get_redis(stack.redis_url)).state(wa_id).state == "queued"
