"""What Rasa is given for each kind of WhatsApp message."""
import pytest

from connector.inbound import parse_webhook
from connector.worker import describe, rasa_text

from .conftest import text_webhook


def interactive(kind: str, reply: dict) -> dict:
    payload = text_webhook("34600", "wamid.i", "")
    msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    msg.pop("text")
    msg.update(type="interactive", interactive={"type": kind, kind: reply})
    return payload


@pytest.mark.parametrize("kind", ["button_reply", "list_reply"])
def test_our_buttons_carry_rasa_payloads_through(kind):
    payload = '/faq_pick{"faq_key":"horarios"}'
    message = parse_webhook(interactive(kind, {"id": payload, "title": "Horarios"})).messages[0]
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

    from connector.whatsapp import _tracker_check

    tracker = types.SimpleNamespace(events=[UserUttered("hola", message_id="wamid.seen")])

    class Store:
        async def retrieve(self, conv):
            return tracker if conv == "34600" else None

    app = types.SimpleNamespace(ctx=types.SimpleNamespace(agent=types.SimpleNamespace(tracker_store=Store())))
    check = _tracker_check(app)
    assert await check("34600", "wamid.seen")
    assert not await check("34600", "wamid.other")
    assert not await check("34611", "wamid.seen")
