"""What the console posts to Rasa parses as Rasa events."""
from __future__ import annotations


def test_posted_events_are_valid_rasa_events():
    """What the console posts parses as Rasa events, and the agent reaches the output channel."""
    from rasa.shared.core.events import BotUttered, ConversationResumed, Event

    from console.desk.rasa_client import bot_template_event, bot_text_event

    template = {"name": "reengage_es", "language": {"code": "es_MX"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "María"}]}]}
    reply, resume, template_event = (Event.from_parameters(e) for e in (
        bot_text_event("hola", "ana"), {"event": "resume"}, bot_template_event(template, "ana")))
    assert isinstance(reply, BotUttered) and reply.message()["agent"] == "ana"
    assert isinstance(resume, ConversationResumed)
    assert template_event.message()["custom"] == {"type": "template", "template": template}
