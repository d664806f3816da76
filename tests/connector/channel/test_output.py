import pytest
from rasa.core.actions.action import create_bot_utterance
from rasa.shared.core.events import Event

from core.clock import FixedClock
from connector.policy.consent import OPTED_IN, TRANSACTIONAL, ConsentRegister
from connector.policy.templates import TemplateRegister
from connector.policy.tier import MessagingTier
from connector.policy.window import ServiceWindow
from connector.cloudapi.delivery import DeliveryLog
from connector.cloudapi.errors import WindowClosedError
from connector.cloudapi import reply_ids
from connector.cloudapi.limits import LimitError
from connector.channel.output import WhatsAppOutput
from tests.connector.fake_graph import CONFIG, NOON, FakeGraph, Sleeper, graph_error, interactive_validator

CONV = "34600000001"


@pytest.fixture
def clock():
    return FixedClock(NOON)


@pytest.fixture
def graph():
    return FakeGraph()


@pytest.fixture
def make_output(redis_client, clock, graph):
    def make(open_window=True, **options):
        if open_window:
            ServiceWindow(redis_client, clock).record_inbound(CONV)
        return WhatsAppOutput.from_config(CONFIG, redis_client, clock, http=graph.client(),
                                          sleep=Sleeper(clock), **options)
    return make


def untag(reply_id):
    return reply_ids.untag(reply_id, reply_ids.key())


def sent(graph):
    return [r["body"] for r in graph.requests]


def faq_buttons(n):
    return [{"title": f"Tema {i}", "payload": f'/faq_pick{{"faq_key":"k{i}"}}'} for i in range(n)]


def test_name_matches_the_input_channel():
    assert WhatsAppOutput.name() == "whatsapp"


async def test_plain_text(make_output, graph):
    await make_output().send_response(CONV, {"text": "Hola 👋"})
    assert sent(graph) == [{"messaging_product": "whatsapp", "recipient_type": "individual",
                            "to": CONV, "type": "text", "text": {"body": "Hola 👋"}}]


async def test_rasa_bot_utterance_with_buttons_and_english_condition(make_output, graph, shared_dir):
    # The same dict Rasa's processor hands to send_response for a conditional response variation.
    utterance = create_bot_utterance({
        "text": "Pick a topic", "buttons": faq_buttons(5),
        "condition": [{"type": "slot", "name": "language", "value": "en"}], "utter_action": "utter_menu",
    })
    await make_output().send_response(CONV, utterance.message())
    (body,) = sent(graph)
    assert body["interactive"]["type"] == "list" and body["interactive"]["action"]["button"] == "Options"
    assert untag(body["interactive"]["action"]["sections"][0]["rows"][2]["id"]) == '/faq_pick{"faq_key":"k2"}'
    interactive_validator(shared_dir).validate(body["interactive"])


async def test_spanish_default_and_reply_buttons(make_output, graph):
    output = make_output()
    await output.send_response(CONV, create_bot_utterance({"text": "Elige", "buttons": faq_buttons(5)}).message())
    await output.send_response(CONV, {"text": "¿Te ayudó?", "buttons": [{"title": "Sí", "payload": "/affirm"},
                                                                      {"title": "No", "payload": "/deny"}]})
    first, second = sent(graph)
    assert first["interactive"]["action"]["button"] == "Ver opciones"
    assert second["interactive"]["type"] == "button"
    assert [untag(b["reply"]["id"]) for b in second["interactive"]["action"]["buttons"]] == ["/affirm", "/deny"]


async def test_language_lookup_is_used_when_the_response_has_none(make_output, graph):
    await make_output(language_for=lambda conv: "en").send_text_with_buttons(CONV, "Pick", faq_buttons(4))
    assert sent(graph)[0]["interactive"]["action"]["button"] == "Options"


async def test_agent_reply_event_records_the_agent(make_output, graph, redis_client):
    # What the console posts to /conversations/{id}/tracker/events?execute_side_effects=true
    event = Event.from_parameters({"event": "bot", "text": "Soy Ana, te ayudo", "metadata": {"agent": "ana"}})
    await make_output().send_response(CONV, event.message())
    assert sent(graph)[0]["text"]["body"] == "Soy Ana, te ayudo"
    assert DeliveryLog(redis_client).get("wamid.TEST1")["agent"] == "ana"


async def test_text_then_custom_then_image_in_rasa_order(make_output, graph):
    await make_output().send_response(CONV, {
        "text": "Nuestra tienda:", "image": "https://example.com/tienda.jpg",
        "custom": {"type": "location", "location": {"latitude": 40.4, "longitude": -3.7}},
    })
    assert [b["type"] for b in sent(graph)] == ["text", "location", "image"]


async def test_long_text_goes_out_in_pieces(make_output, graph):
    text = "\n\n".join("Párrafo largo. " * 150 for _ in range(3))
    await make_output().send_text_message(CONV, text)
    assert len(sent(graph)) >= 2 and all(len(b["text"]["body"]) <= 4096 for b in sent(graph))


async def test_limit_problem_sends_nothing_and_is_visible(make_output, graph, redis_client):
    await make_output().send_response(CONV, {"text": "Demasiadas", "buttons": faq_buttons(11)})
    assert graph.requests == []
    (failure,) = DeliveryLog(redis_client).failures(CONV)
    assert failure["code"] == "limits" and "11 buttons" in failure["title"]
    assert len(failure["body"]["buttons"]) == 11
    with pytest.raises(LimitError):
        await make_output(raise_errors=True).send_response(CONV, {"text": "x", "buttons": faq_buttons(11)})


async def test_closed_window_never_breaks_the_rasa_turn(make_output, graph, redis_client):
    await make_output(open_window=False).send_response(CONV, {"text": "Hola", "metadata": {"agent": "ana"}})
    assert graph.requests == []
    (failure,) = DeliveryLog(redis_client).failures(CONV)
    assert failure["code"] == "window_closed" and failure["agent"] == "ana"
    with pytest.raises(WindowClosedError):
        await make_output(open_window=False, raise_errors=True).send_text_message(CONV, "Hola")


async def test_a_template_the_tier_defers_is_reported_as_not_sent_because_no_turn_keeps_it(
        make_output, graph, redis_client, clock):
    TemplateRegister(redis_client, clock).load_file()
    ConsentRegister(redis_client, clock).record(CONV, TRANSACTIONAL, OPTED_IN, "web_form")
    tier = MessagingTier(redis_client, clock)
    tier.set_tier("TIER_250", source="test")
    for n in range(250):
        tier.reserve(f"5215500{n:05d}")
    template = {"name": "order_confirmation", "language": {"code": "es_MX"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": t} for t in ("María", "A-1", "$1")]}]}
    await make_output(open_window=False).send_custom_json(CONV, {"type": "template", "template": template},
                                                          agent="ana")
    assert graph.requests == []
    (failure,) = DeliveryLog(redis_client).failures(CONV)
    assert failure["kind"] == "refused" and failure["code"] == "tier" and failure["agent"] == "ana"
    assert failure["title"].startswith("not sent:") and "can go after" in failure["title"]


async def test_a_failed_piece_stops_the_rest(redis_client, clock):
    graph = FakeGraph("ok", graph_error(131026, "Message undeliverable"))
    ServiceWindow(redis_client, clock).record_inbound(CONV)
    output = WhatsAppOutput.from_config(CONFIG, redis_client, clock, http=graph.client(), sleep=Sleeper(clock))
    await output.send_text_message(CONV, "\n\n".join("Frase de relleno. " * 200 for _ in range(3)))
    assert len(graph.requests) == 2 and len(graph.accepted) == 1


async def test_recipient_lookup_for_bsuid_customers(make_output, graph):
    class Recipient:  # the shape connector.webhook.identity.Recipient has
        def fields(self):
            return {"recipient": "US.13491208655302741918"}

    async def lookup(conv):
        return Recipient()

    await make_output(recipient_for=lookup).send_text_message(CONV, "Hola")
    body = sent(graph)[0]
    assert body["recipient"] == "US.13491208655302741918" and "to" not in body


async def test_unsupported_rasa_elements_are_reported_not_stringified(make_output, graph, redis_client):
    await make_output().send_response(CONV, {"text": None, "elements": [{"title": "card"}]})
    assert graph.requests == []
    assert DeliveryLog(redis_client).failures(CONV)[0]["code"] == "unsupported"


# --- the per-turn view (for_turn) ------------------------------------------------------------

import httpx
import redis as redis_lib

from bot.handoff import Handoff
from connector.channel.output import TurnLog, turn_key
from core.redis_conn import free_port


@pytest.fixture
def turn_output(make_output, redis_client, clock):
    return lambda **options: make_output(handoff=Handoff(redis_client, clock), **options)


async def test_a_rerun_of_a_turn_skips_the_sends_that_went_out(turn_output, graph, redis_client):
    output = turn_output()
    await output.for_turn("wamid.in1").send_text_message(CONV, "Hola")
    # The turn was cut short here (e.g. Redis went away before Rasa saved the tracker).
    rerun = output.for_turn("wamid.in1")
    await rerun.send_text_message(CONV, "Hola")
    await rerun.send_text_message(CONV, "¿En qué te ayudo?")
    assert [b["text"]["body"] for b in sent(graph)] == ["Hola", "¿En qué te ayudo?"]
    assert redis_client.hgetall(turn_key("wamid.in1")) == {"0": "wamid.TEST1", "1": "wamid.TEST2"}
    assert 0 < redis_client.ttl(turn_key("wamid.in1")) <= 3 * 24 * 3600
    await output.for_turn("wamid.in2").send_text_message(CONV, "Hola")  # another message: answered
    assert len(sent(graph)) == 3


async def test_a_send_recorded_while_redis_is_down_is_still_skipped_by_this_process(
        turn_output, graph, redis_client):
    dead = redis_lib.Redis(port=free_port(), decode_responses=True, socket_connect_timeout=0.5)
    output = turn_output(turn_log=TurnLog(dead))
    await output.for_turn("wamid.in1").send_text_message(CONV, "Hola")
    await output.for_turn("wamid.in1").send_text_message(CONV, "Hola")
    assert len(sent(graph)) == 1
    # Once Redis takes records again, the whole turn's record goes there.
    output.turn_log.redis = redis_client
    await output.for_turn("wamid.in1").send_text_message(CONV, "Hola")
    view = output.for_turn("wamid.in1")
    await view.send_text_message(CONV, "Hola")
    await view.send_text_message(CONV, "¿Algo más?")
    assert redis_client.hgetall(turn_key("wamid.in1")) == {"0": "wamid.TEST1", "1": "wamid.TEST2"}
    assert len(sent(graph)) == 2


async def test_after_an_unknown_outcome_the_turn_holds_its_other_sends(redis_client, clock):
    graph = FakeGraph(httpx.ReadTimeout("read timed out"))
    ServiceWindow(redis_client, clock).record_inbound(CONV)
    handoff = Handoff(redis_client, clock)
    output = WhatsAppOutput.from_config(CONFIG, redis_client, clock, http=graph.client(),
                                        sleep=Sleeper(clock), handoff=handoff)
    view = output.for_turn("wamid.in1", name="Ana", last_message="hola")
    await view.send_response(CONV, {"text": "¡Hola!", "language": "en"})
    await view.send_response(CONV, {"text": "Elige", "buttons": faq_buttons(5)})
    assert len(graph.requests) == 1
    kinds = {(f["kind"], f["title"]) for f in DeliveryLog(redis_client).failures(CONV)}
    assert ("refused", "held after an unknown outcome") in kinds and "unknown_outcome" in {k for k, _ in kinds}
    chat = handoff.state(CONV)
    assert (chat.state, chat.reason, chat.name, chat.language) == ("queued", "delivery_unknown", "Ana", "en")
    # A rerun neither re-sends the doubtful message nor lets the rest through.
    await output.for_turn("wamid.in1").send_response(CONV, {"text": "¡Hola!"})
    assert len(graph.requests) == 1
    # Agent replies go through the process-wide channel, not held.
    await output.send_text_message(CONV, "Soy Ana", agent="ana")
    assert len(graph.requests) == 2


async def test_a_refusal_is_a_warning_not_an_error(make_output, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="connector.channel.output"):
        await make_output().send_response(CONV, {"text": "x", "buttons": faq_buttons(11)})
    levels = [r.levelno for r in caplog.records if r.name == "connector.channel.output"]
    assert levels == [logging.WARNING]


async def test_an_agents_file_event_goes_out_as_one_media_message_by_id(make_output, graph, redis_client):
    # What the console posts for an attachment (core/rasa_api.py bot_media_event).
    from core.rasa_api import bot_media_event

    event = Event.from_parameters(bot_media_event(
        "document", "1234567890", "ana", mime_type="application/pdf", file_size=10,
        filename="factura.pdf", caption="Tu factura"))
    await make_output().send_response(CONV, event.message())
    assert sent(graph) == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": CONV,
                            "type": "document", "document": {"id": "1234567890", "caption": "Tu factura",
                                                             "filename": "factura.pdf"}}]
    assert DeliveryLog(redis_client).get("wamid.TEST1")["agent"] == "ana"
