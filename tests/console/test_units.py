"""Pure pieces: history rendering, number masking, the throttle window, the event stream."""
from __future__ import annotations

import json
import threading
import time

from console.customer import mask_number
from console.events import stream, summarize
from console.history import messages_from_tracker
from console.janitor import Janitor
from console.throttle import LoginThrottle


def _buttons(n):
    return [{"title": f"Opción {i}", "payload": f'/faq_pick{{"faq_key":"k{i}"}}'} for i in range(n)]


def test_history_shows_messages_as_the_customer_saw_them():
    tracker = {"events": [
        {"event": "user", "text": "hola", "timestamp": 1},
        {"event": "bot", "text": "¿Qué necesitas?", "data": {"buttons": _buttons(3)}, "timestamp": 2},
        {"event": "user", "text": '/faq_pick{"faq_key":"k1"}', "timestamp": 3},
        {"event": "bot", "text": "Menú", "data": {"buttons": _buttons(6)}, "timestamp": 4},
        {"event": "action", "name": "action_listen"},
        {"event": "pause", "timestamp": 5},
        {"event": "bot", "text": "Hola, soy Ana", "metadata": {"agent": "ana"}, "timestamp": 6},
        {"event": "bot", "data": {"custom": {"type": "template", "template": {
            "name": "reengage_es", "components": [{"type": "body", "parameters": [{"type": "text", "text": "María"}]}]}}},
         "metadata": {"agent": "ana"}, "timestamp": 7},
        {"event": "resume", "timestamp": 8},
    ]}
    render = lambda name, language, params: f"Hola {params[0]}" if name == "reengage_es" else None
    msgs = messages_from_tracker(tracker, render)
    assert [m.kind for m in msgs] == ["customer", "bot", "customer", "bot", "system", "agent", "agent", "system"]
    assert msgs[1].buttons == ["Opción 0", "Opción 1", "Opción 2"] and msgs[1].rows == []
    assert msgs[2].text == "Opción 1"  # the tapped title, not the payload
    assert msgs[3].rows == [f"Opción {i}" for i in range(6)] and msgs[3].buttons == []
    assert msgs[5].agent == "ana"
    assert msgs[6].template == "reengage_es" and msgs[6].text == "Hola María"


def test_customer_taps_and_media_show_what_was_sent():
    tracker = {"events": [
        {"event": "user", "text": "/human_handoff", "metadata": {"whatsapp": {"kind": "button_reply", "text": "Hablar con alguien"}}},
        {"event": "user", "text": '/media_received{"media_kind":"image"}', "metadata": {"whatsapp": {"kind": "image", "text": "mi ticket"}}},
        {"event": "user", "text": "/shared_location", "metadata": {"whatsapp": {"kind": "location"}}},
    ]}
    assert [m.text for m in messages_from_tracker(tracker)] == ["Hablar con alguien", "[image] mi ticket", "[location]"]


def test_numbers_are_partly_masked():
    assert mask_number("5215512341234") == "+52 55 **** 1234"
    assert mask_number("525512341234") == "+52 55 **** 1234"
    assert mask_number("15551234567") == "+1 55 **** 4567"
    assert mask_number("US.13491208655302741918") == "hidden (WhatsApp username contact)"


def test_throttle_window_is_not_extended_by_more_failures(redis_client):
    throttle = LoginThrottle(redis_client, limit=2, window_seconds=60)
    throttle.record_failure("ana", "1.1.1.1")
    assert throttle.retry_after("ana", "1.1.1.1") is None
    throttle.record_failure("ana", "1.1.1.1")
    assert 0 < throttle.retry_after("ana", "1.1.1.1") <= 60
    assert redis_client.ttl("console:throttle:user:ana") <= 60
    throttle.record_success("ana")
    assert throttle.retry_after("ana", "2.2.2.2") is None
    assert throttle.retry_after("bob", "1.1.1.1") is not None  # the IP stays limited


def test_event_stream_relays_references_only(redis_client):
    frames = stream(redis_client, max_seconds=3, to_ref=lambda conv: "ref-" + conv)
    assert next(frames).startswith("retry:")
    received = []

    def read():
        for frame in frames:
            received.append(frame)
            if len(received) == 2:
                break

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.1)
    redis_client.publish("handoff:events", json.dumps({"type": "queued", "conv": "521551", "name": "<b>x</b>"}))
    redis_client.publish("handoff:customer-messages", json.dumps({"conversation_id": "521551", "text": "secreto"}))
    reader.join(5)
    assert received[0] == 'event: handoff\ndata: {"conversation_id": "ref-521551", "type": "queued", "agent": null}\n\n'
    assert received[1] == 'event: customer\ndata: {"conversation_id": "ref-521551"}\n\n'
    assert "secreto" not in "".join(received)
    frames.close()


def test_summarize_tolerates_odd_payloads():
    assert summarize("handoff:events", "not json") == ("handoff", {"conversation_id": None, "type": None, "agent": None})
    assert summarize("handoff:customer-messages", "[1]") == ("customer", {"conversation_id": None})


def test_sse_endpoint_needs_login_and_streams(app, client_for):
    assert app.test_client().get("/events").status_code == 302
    response = client_for("ana").get("/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    first = next(iter(response.response))
    assert (first if isinstance(first, str) else first.decode()).startswith("retry:")
    response.close()


def test_janitor_calls_requeue_until_stopped():
    calls = []

    class Desk:
        def requeue_abandoned(self):
            calls.append(1)
            if len(calls) == 1:
                raise ConnectionError("redis restarting")  # must not kill the thread

    janitor = Janitor(Desk(), interval_seconds=0.02).start()
    time.sleep(0.2)
    janitor.stop()
    assert len(calls) >= 2


def test_posted_events_are_valid_rasa_events():
    """What the console posts parses as Rasa events, and the agent reaches the output channel."""
    from rasa.shared.core.events import BotUttered, ConversationResumed, Event

    from console.rasa_client import bot_template_event, bot_text_event
    from console.wa_templates import Template

    template = Template("reengage_es", "es_MX", "Hola {{1}}", "MARKETING").cloud_api_object(["María"])
    reply, resume, template_event = (Event.from_parameters(e) for e in (
        bot_text_event("hola", "ana"), {"event": "resume"}, bot_template_event(template, "ana")))
    assert isinstance(reply, BotUttered) and reply.message()["agent"] == "ana"
    assert isinstance(resume, ConversationResumed)
    assert template_event.message()["custom"] == {"type": "template", "template": template}


def test_event_stream_ends_cleanly_when_redis_is_down():
    """A stream opened while Redis restarts must end as an event stream (the browser then
    reconnects), not fail with a 500 that makes EventSource give up for good."""
    import redis as redis_lib

    class DownPubSub:
        def subscribe(self, *channels):
            raise redis_lib.ConnectionError("Connection refused")

        def get_message(self, timeout=0):
            raise redis_lib.ConnectionError("Connection refused")

        def close(self):
            pass

    class DownRedis:
        def pubsub(self):
            return DownPubSub()

    frames = list(stream(DownRedis(), max_seconds=1))
    assert frames and frames[0].startswith("retry:")
