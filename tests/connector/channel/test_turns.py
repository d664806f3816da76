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


async def test_tracker_check_finds_the_user_message_by_wamid():
    import types

    from rasa.shared.core.events import UserUttered

    from connector.channel.input import _tracker_check

    tracker = types.SimpleNamespace(events=[UserUttered("hola", message_id="wamid.seen")])

    class Store:
        async def retrieve(self, conv):
            return tracker if conv == "34600" else None

    app = types.SimpleNamespace(ctx=types.SimpleNamespace(agent=types.SimpleNamespace(tracker_store=Store())))
    check = _tracker_check(app)
    assert await check("34600", "wamid.seen")
    assert not await check("34600", "wamid.other")
    assert not await check("34611", "wamid.seen")


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


async def test_a_handed_off_chat_stays_paused_when_rasa_starts_a_new_session(redis_client):
    # Rasa starts a new session after session_expiration_time (60 min) without a user message,
    # and SessionStarted clears the pause: a customer waiting in the queue overnight, or
    # answering an agent an hour later, would get the bot talking over the agent.
    import contextlib
    import datetime as dt
    import time
    import types

    from rasa.shared.core.events import ActionExecuted, ConversationPaused, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from core.clock import FixedClock
    from bot.handoff import Handoff
    from connector.inbox.queue import QueuedItem
    from connector.channel.input import _tracker_pauser
    from connector.channel.turns import TurnHandler

    two_hours_ago = time.time() - 7200
    tracker = DialogueStateTracker.from_events("34600", [
        UserUttered("quiero un asesor", timestamp=two_hours_ago),
        ActionExecuted("action_handoff", timestamp=two_hours_ago),
        ConversationPaused(timestamp=two_hours_ago),
    ])
    assert tracker.is_paused()
    stored = {"tracker": tracker}

    class Processor:
        """Rasa's session rule: expired when the last applied user message is over 60 min old."""

        async def fetch_tracker_and_update_session(self, conv, output_channel=None, metadata=None):
            current = stored["tracker"]
            last = current.get_last_event_for(UserUttered)
            if last and time.time() - last.timestamp > 3600:
                current.update(SessionStarted())
                current.update(ActionExecuted("action_listen"))
            return current

    class Store:
        async def save(self, saved):
            stored["tracker"] = saved

    class Locks:
        @contextlib.asynccontextmanager
        async def lock(self, conv):
            yield

    agent = types.SimpleNamespace(processor=Processor(), tracker_store=Store(), lock_store=Locks())
    app = types.SimpleNamespace(ctx=types.SimpleNamespace(agent=agent))
    handoff = Handoff(redis_client, FixedClock(dt.datetime(2025, 6, 15, 12, tzinfo=dt.timezone.utc)))
    handoff.request("34600", "asked for a person", "es", "Cliente", "quiero un asesor")

    paused_when_rasa_got_it = []

    async def on_new_message(message):
        # What Rasa's processor does first: fetch and update the session, then log.
        current = await Processor().fetch_tracker_and_update_session(message.sender_id)
        paused_when_rasa_got_it.append(current.is_paused())

    handler = TurnHandler(on_new_message, lambda: None, redis_client, handoff=handoff,
                          keep_paused=_tracker_pauser(app))
    message = parse_webhook(text_webhook("34600", "wamid.late", "¿siguen ahí?")).messages[0]
    await handler(QueuedItem("34600", message.wamid, dict(message.envelope), ""))
    assert paused_when_rasa_got_it == [True]
