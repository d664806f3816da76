"""Known conversations written through the event broker endpoints.yml names, with chosen timestamps.

The events are Rasa's event classes, published the way Rasa's tracker store streams them
(`{"sender_id": ..., **event.as_dict()}`); their shape is checked against what the real agent
writes in test_real_agent.py.
"""
from __future__ import annotations

from pathlib import Path

from bot.insights.broker import EventStoreBroker
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, UserUttered


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'events.db'}"


class Recorder:
    def __init__(self, url: str):
        self.broker = EventStoreBroker(host=url)

    def _publish(self, sender: str, event) -> None:
        self.broker.publish({"sender_id": sender, **event.as_dict()})

    def turn(self, sender: str, at: float, text: str, *, faq: str | None = None, confidence: float = 0.9,
             fallback: bool = False, reply_after: float = 0.5, handoff: bool = False,
             ranking: list[tuple[str, float]] | None = None, language: str | None = None,
             paused: bool = False) -> None:
        """One customer message and the bot's turn: an FAQ answer, a fallback, or (paused) nothing."""
        if ranking is None:
            ranking = [(faq, confidence)] if faq else []
        intent = "nlu_fallback" if fallback else ("faq" if faq else "greet")
        parse_data = {
            "intent": {"name": intent, "confidence": 0.35 if fallback else confidence},
            "entities": [{"entity": "language", "value": language}] if language else [],
            "text": text,
            "response_selector": {"faq": {"ranking": [
                {"intent_response_key": f"faq/{key}", "confidence": conf} for key, conf in ranking]}},
        }
        self._publish(sender, UserUttered(text, parse_data=parse_data, timestamp=at))
        if paused:
            return
        if fallback:
            self._publish(sender, ActionExecuted("action_fallback", timestamp=at + reply_after / 2))
            self._publish(sender, BotUttered("No entendí", metadata={"utter_action": "utter_default"},
                                             timestamp=at + reply_after))
        elif faq:
            self._publish(sender, ActionExecuted("utter_faq", timestamp=at + reply_after / 2))
            self._publish(sender, BotUttered("Respuesta", metadata={"utter_action": f"utter_faq/{faq}"},
                                             timestamp=at + reply_after))
            self._publish(sender, ActionExecuted("action_faq_follow_up", timestamp=at + reply_after))
        else:
            self._publish(sender, ActionExecuted("action_greet", timestamp=at + reply_after / 2))
            self._publish(sender, BotUttered("Hola", metadata={"utter_action": "utter_greet"},
                                             timestamp=at + reply_after))
        if handoff:
            self._publish(sender, ConversationPaused(timestamp=at + reply_after))
        self._publish(sender, ActionExecuted("action_listen", timestamp=at + reply_after))
