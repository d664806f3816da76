"""Answering an FAQ picked from a menu row, where no NLU ran to fill Rasa's response selector."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        key = next(tracker.get_latest_entity_values("faq_key"), None) or tracker.get_slot("faq_key")
        response = f"utter_faq/{key}"
        # A stale or hand-typed payload must not produce an empty reply: say we did not understand.
        if not key or response not in domain.get("responses", {}):
            dispatcher.utter_message(response="utter_default")
        else:
            dispatcher.utter_message(response=response)
            dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("faq_key", None)]
