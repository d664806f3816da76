"""What Rasa is given for each kind of WhatsApp message."""
import pytest

from connector.cloudapi import reply_ids
from connector.webhook.inbound import parse_webhook
from connector.channel.turns import describe, rasa_text

from tests.connector.conftest import text_webhook


def interactive(kind: str, reply: dict) -> dict:
    payload = text_webhook("34600", "wamid.i", "")
    msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    msg.pop("text")
    msg.update(type="interactive", interactive={"type": kind, kind: reply})
    return payload


@pytest.mark.parametrize("kind", ["button_reply", "list_reply"])
def test_our_buttons_carry_rasa_payloads_through(kind):
    payload = '/faq_pick{"faq_key":"horarios"}'
    our_id = reply_ids.tag(payload, reply_ids.key())
    message = parse_webhook(interactive(kind, {"id": our_id, "title": "Horarios"})).messages[0]
    assert rasa_text(message) == payload


def test_foreign_button_ids_go_to_nlu_as_their_title():
    message = parse_webhook(interactive("button_reply", {"id": "btn-7", "title": "Hablar con alguien"})).messages[0]
    assert rasa_text(message) == "Hablar con alguien"


@pytest.mark.parametrize("kind", ["image", "audio", "video", "document", "sticker"])
def test_media_becomes_one_intent_with_its_kind(kind):
    payload = text_webhook("34600", "wamid.m", "")
    msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    msg.pop("text")
    msg.update(type=kind, **{kind: {"id": "MEDIA1", "mime_type": "x/y", "sha256": "abc", "filename": "f.pdf"}})
    message = parse_webhook(payload).messages[0]
    assert rasa_text(message) == '/media_received{"media_kind":"%s"}' % kind
    facts = describe(message, "34600")
    assert facts["media"]["id"] == "MEDIA1" and facts["media"]["mime_type"] == "x/y"


def test_the_agent_is_told_when_a_text_was_cut_to_whatsapps_length():
    message = parse_webhook(text_webhook("34600", "wamid.long", "a" * 5000)).messages[0]
    assert describe(message, "34600")["truncated"] is True
    assert describe(parse_webhook(text_webhook("34600", "wamid.s", "hola")).messages[0], "34600")["truncated"] is False


@pytest.mark.parametrize("typed, expected", [
    ("/restart", "restart"),
    ('  /faq_pick{"faq_key":"horarios"}', 'faq_pick{"faq_key":"horarios"}'),
    ("//human_handoff", "human_handoff"),
    ("/", "/"),
    ("hola /restart", "hola /restart"),
])
def test_typed_text_never_becomes_a_rasa_intent_payload(typed, expected):
    # Rasa parses any text starting with "/" as an intent: "/restart" would un-pause a chat
    # an agent holds. Only our own button ids may carry payloads.
    message = parse_webhook(text_webhook("34600", "wamid.t", typed)).messages[0]
    assert rasa_text(message) == expected


# --- the bot's turn with the real assistant (Rasa agent, action server, Redis) --------------

import httpx
import redis as redis_lib

from connector.cloudapi.delivery import DeliveryLog
from connector.policy.window import ServiceWindow
from tests.connector.channel.conftest import CONV, wire
from tests.connector.fake_graph import FakeGraph


def text_of(body: dict) -> str:
    return body["text"]["body"] if body["type"] == "text" else body["interactive"]["body"]["text"]


class RedisRestartsAfterTheFirstReply(ServiceWindow):
    """Redis goes away once, just as the second reply of a turn checks the window."""

    def __init__(self, redis) -> None:
        super().__init__(redis)
        self.checks = 0

    def status(self, conversation_id):
        self.checks += 1
        if self.checks == 2:
            raise redis_lib.exceptions.ConnectionError("Connection reset by peer (Redis restarting)")
        return super().status(conversation_id)


@pytest.mark.model
async def test_a_turn_rerun_after_a_redis_restart_does_not_send_its_replies_twice(rasa_agent, redis_client):
    channel = wire(rasa_agent, redis_client, window=RedisRestartsAfterTheFirstReply(redis_client))
    await channel.through_the_pool("hola", "wamid.hola")
    texts = [text_of(body) for body in channel.graph.accepted]
    assert texts[0].startswith("¡Hola!") and len(texts) >= 2  # greeting, then the menu
    assert len(texts) == len(set(texts)), texts


@pytest.mark.model
@pytest.mark.parametrize("language, apology, person", [
    ("es", "Perdón", "Hablar con persona"), ("en", "Sorry", "Talk to a person")])
async def test_a_turn_that_raises_is_recorded_and_the_customer_is_offered_a_person(
        rasa_agent, redis_client, language, apology, person):
    async def rasa_with_a_bug(message):
        if message.message_id == "wamid.boom":
            raise RuntimeError("a component blew up")
        return await rasa_agent.handle_message(message)

    channel = wire(rasa_agent, redis_client, on_new_message=rasa_with_a_bug)
    first = "what are your opening hours?" if language == "en" else "¿cuál es su horario?"
    await channel.through_the_pool(first, "wamid.first")
    before = len(channel.graph.accepted)
    await channel.through_the_pool("y los domingos", "wamid.boom")

    (failure,) = [f for f in DeliveryLog(redis_client).failures(CONV) if f["kind"] == "turn_failed"]
    assert failure["body"]["text"] == "y los domingos" and "a component blew up" in failure["detail"]
    (reply,) = channel.graph.accepted[before:]
    assert text_of(reply).startswith(apology)
    buttons = reply["interactive"]["action"]["buttons"]
    offered = [(reply_ids.untag(b["reply"]["id"], reply_ids.key()), b["reply"]["title"]) for b in buttons]
    assert ("/human_handoff", person) in offered


@pytest.mark.model
async def test_a_redis_outage_inside_the_turn_is_retried_not_apologised_for(rasa_agent, redis_client):
    attempts = []

    async def rasa_during_an_outage(message):
        attempts.append(message.message_id)
        if len(attempts) == 1:
            raise redis_lib.exceptions.ConnectionError("Connection refused")
        return await rasa_agent.handle_message(message)

    channel = wire(rasa_agent, redis_client, on_new_message=rasa_during_an_outage)
    await channel.through_the_pool("hola", "wamid.hola")
    assert attempts == ["wamid.hola", "wamid.hola"]
    assert not [f for f in DeliveryLog(redis_client).failures(CONV) if f["kind"] == "turn_failed"]
    assert text_of(channel.graph.accepted[0]).startswith("¡Hola!")


@pytest.mark.model
async def test_after_an_unknown_outcome_the_rest_of_the_turn_is_held_and_a_person_is_told(
        rasa_agent, redis_client):
    # The read receipt goes through, the greeting times out after Meta may have taken it.
    channel = wire(rasa_agent, redis_client, graph=FakeGraph("ok", httpx.ReadTimeout("read timed out")))
    await channel.says("hola", "wamid.hola")
    sends = [r["body"] for r in channel.graph.requests if r["body"].get("status") != "read"]
    assert len(sends) == 1 and text_of(sends[0]).startswith("¡Hola!")  # the menu never overtakes it

    failures = DeliveryLog(redis_client).failures(CONV)
    held = [f for f in failures if f["kind"] == "refused" and f["title"] == "held after an unknown outcome"]
    assert "interactive" in [f["body"]["type"] for f in held]  # the menu, with the rest
    chat = channel.handoff.state(CONV)
    assert (chat.state, chat.reason) == ("queued", "delivery_unknown")

    # The person checks with the customer: the bot stays out of the chat meanwhile.
    assert await channel.says("¿hola?", "wamid.again") == []
    assert (await channel.tracker()).is_paused()
