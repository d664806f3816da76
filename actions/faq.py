"""Every FAQ answer: the answer itself, filled with the schedule, then what follows it.

Typed questions are matched by Rasa's response selector; menu rows carry the FAQ key instead,
because no NLU ran for them. Both are answered here rather than by Rasa's `utter_faq`, because
`utter_faq` fills an answer from slots only: here an answer can say `{hours_week}` and
`{hours_special}` (bot/hours/wording.py), read from hours.yml when the answer is sent. It costs no
extra call: the follow-up needed this action server anyway.
"""
from __future__ import annotations

import functools
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import current_hours, language_of
from bot.content.catalog import FAQ_RESPONSE_PREFIX, load_catalog
from bot.hours.replies import after_faq
from bot.hours.wording import answer_values
from core.clock import SYSTEM_CLOCK

@functools.lru_cache(maxsize=1)
def _offer_agent_keys() -> frozenset[str]:
    return frozenset(faq.key for faq in load_catalog() if faq.offer_agent)


def follow_up(dispatcher: CollectingDispatcher, tracker: Tracker, key: str | None) -> None:
    for response, values in after_faq(key or "", key in _offer_agent_keys(), current_hours(),
                                      SYSTEM_CLOCK.now(), language_of(tracker)):
        dispatcher.utter_message(response=response, **values)


def retrieved_faq_key(tracker: Tracker) -> str | None:
    """The FAQ the response selector picked for the latest message (faq/<key> → <key>)."""
    selector = tracker.latest_message.get("response_selector") or {}
    response = (selector.get("faq") or selector.get("default") or {}).get("response") or {}
    key = response.get("intent_response_key") or ""
    return key.split("/", 1)[1] if "/" in key else None


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        key = (next(tracker.get_latest_entity_values("faq_key"), None) or tracker.get_slot("faq_key")
               or retrieved_faq_key(tracker))
        # A stale or hand-typed payload must not produce an empty reply: say we did not understand.
        if not key or f"{FAQ_RESPONSE_PREFIX}{key}" not in domain.get("responses", {}):
            dispatcher.utter_message(response="utter_default")
        else:
            values = answer_values(current_hours(), SYSTEM_CLOCK.now(), language_of(tracker))
            # Spelled out, not FAQ_RESPONSE_PREFIX: bot/content/rasa_check.py reads it from here.
            dispatcher.utter_message(response=f"utter_faq/{key}", **values)
            follow_up(dispatcher, tracker, key)
        return [SlotSet("faq_key", None)]
