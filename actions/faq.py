"""What follows an FAQ answer: the live "open now?" line, an offer of a person, or "anything else?".

Typed questions are answered by Rasa's response selector (`utter_faq`); menu rows carry the FAQ
key instead, because no NLU ran for them. Both then end with the same follow-up.
"""
from __future__ import annotations

import functools
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import opening_status
from bot.content.catalog import load_catalog

# The FAQ whose static answer ("Mon–Fri 10–20") also needs the answer for *now*.
HOURS_FAQ = "opening_hours"


@functools.lru_cache(maxsize=1)
def _offer_agent_keys() -> frozenset[str]:
    return frozenset(faq.key for faq in load_catalog() if faq.offer_agent)


def follow_up(dispatcher: CollectingDispatcher, tracker: Tracker, key: str | None) -> None:
    if key == HOURS_FAQ:
        opening_status(dispatcher, tracker)
    if key in _offer_agent_keys():
        dispatcher.utter_message(response="utter_offer_agent")
    else:
        dispatcher.utter_message(response="utter_anything_else")


def retrieved_faq_key(tracker: Tracker) -> str | None:
    """The FAQ the response selector picked for the latest message (faq/<key> → <key>)."""
    selector = tracker.latest_message.get("response_selector") or {}
    response = (selector.get("faq") or selector.get("default") or {}).get("response") or {}
    key = response.get("intent_response_key") or ""
    return key.split("/", 1)[1] if "/" in key else None


class ActionFaqFollowUp(Action):
    def name(self) -> str:
        return "action_faq_follow_up"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        follow_up(dispatcher, tracker, retrieved_faq_key(tracker))
        return []


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
            follow_up(dispatcher, tracker, key)
        return [SlotSet("faq_key", None)]
