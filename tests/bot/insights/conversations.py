"""Whole customer conversations written through Rasa's SQLEventBroker: sessions, customer
messages with the connector's metadata, a handoff (pause), agent replies and the resolve
(resume), as the real stack writes them (the shapes of Rasa's own event classes)."""
from __future__ import annotations

from rasa.shared.core.events import (
    ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, SessionStarted, UserUttered,
)

from core.rasa_api import bot_text_event

from .recorder import Recorder


class Conversations(Recorder):
    def session(self, sender: str, at: float) -> None:
        self._publish(sender, ActionExecuted("action_session_start", timestamp=at))
        self._publish(sender, SessionStarted(timestamp=at))
        self._publish(sender, ActionExecuted("action_listen", timestamp=at))

    def customer(self, sender: str, at: float, text: str, name: str = "", typed: str | None = None) -> None:
        """A customer message as the connector hands it to Rasa (metadata.whatsapp facts)."""
        facts = {"conversation_id": sender, "kind": "text", "name": name or None, "text": typed or text}
        self._publish(sender, UserUttered(text, parse_data={"intent": {"name": "greet", "confidence": 0.9},
                                                             "entities": [], "text": text},
                                          metadata={"whatsapp": facts}, timestamp=at))

    def bot(self, sender: str, at: float, text: str) -> None:
        self._publish(sender, BotUttered(text, metadata={"utter_action": "utter_greet"}, timestamp=at))

    def handoff(self, sender: str, at: float) -> None:
        self._publish(sender, ConversationPaused(timestamp=at))

    def agent(self, sender: str, at: float, agent: str, text: str) -> None:
        # The console's own event (core/rasa_api.py), as Rasa's tracker/events API stores it.
        event = bot_text_event(text, agent)
        self._publish(sender, BotUttered(event["text"], metadata=event["metadata"], timestamp=at))

    def resolve(self, sender: str, at: float) -> None:
        self._publish(sender, ConversationResumed(timestamp=at))
        self._publish(sender, ActionExecuted("action_listen", timestamp=at))
