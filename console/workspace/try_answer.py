"""A try-it answer as the customer gets it: the messages the bot sends for the draft model's parse
(bot/content/try_server.py), in the editor's WhatsApp preview.

The texts come from where the bot takes them: the FAQ's answer from the draft model's own domain
(it is in the parse), the other responses from the project's domain.yml, filled with the hours
the bot fills in at send time. Which responses an action sends is repeated here, next to the
action it mirrors (as hours_preview.py does for the hours answers).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bot.content.catalog import DEFAULT_LANGUAGE, FAQ_INTENT_PREFIX, Faq, load_catalog, parse_variation, read_yaml
from bot.content.faq_file import faq_dir
from bot.content.heldout import fallback_threshold
from bot.content.try_server import FALLBACK_INTENT
from bot.hours.replies import after_faq, domain_responses, fill, variation
from bot.hours.wording import answer_values

from .. import services
from .faq_views import current_hours
from .wa_preview import Preview, preview


@dataclass(frozen=True)
class Answer:
    label: Optional[str]           # the classifier's best label: faq/<key> or an intent
    faq: Optional[Faq]             # that FAQ, when the label is one
    confidence: float
    threshold: Optional[float]     # config.yml's FallbackClassifier threshold
    fell_back: bool                # below the threshold: the bot sends its fallback instead
    detected: Optional[str]        # the language the detector was sure of, if any
    language: str                  # the language the bot answers in
    runners_up: list[dict]
    messages: list[Preview]        # what the customer gets, in order
    note: str                      # what else happens, for the lead

    @property
    def first_example(self) -> str:
        if self.faq is None:
            return ""
        examples = self.faq.examples.get(self.language) or next(iter(self.faq.examples.values()), [])
        return examples[0] if examples else ""


def _message(name: str, language: str, responses: dict, values: dict | None = None) -> Preview:
    chosen = variation(name, language, responses)
    return preview(fill(str(chosen.get("text") or ""), values or {}), list(parse_variation(chosen).buttons), language)


def _rule_action(root: Path, intent: str) -> Optional[str]:
    """The action a one-step rule runs for `intent` (data/rules.yml)."""
    for rule in read_yaml(root / "data" / "rules.yml").get("rules") or []:
        steps = rule.get("steps") or []
        if len(steps) == 2 and steps[0].get("intent") == intent and "action" in steps[1]:
            return steps[1]["action"]
    return None


def answer_of(result: dict, root: Path) -> Answer:
    ranking = result["ranking"]
    label, confidence = (ranking[0]["label"], ranking[0]["confidence"]) if ranking else (None, 0.0)
    detected = result["language"]
    # actions/handoff.py language_of: the slot keeps the conversation's language, Spanish in a new chat.
    language = detected or DEFAULT_LANGUAGE
    responses = domain_responses(root / "domain.yml")
    hours, now = current_hours(), services.current().clock.now()
    key = label[len(FAQ_INTENT_PREFIX):] if label and label.startswith(FAQ_INTENT_PREFIX) else None
    faq = load_catalog(faq_dir(root)).get(key) if key else None
    messages, note = [], ""
    if result["intent"] == FALLBACK_INTENT:
        # actions/handoff.py ActionFallback: the first miss says so and offers a person.
        messages.append(_message("utter_default", language, responses))
        note = "A second miss in a row hands the chat to a person."
    elif key is not None:
        # As actions/faq.py ActionAnswerFaq: the answer filled with the hours, then what follows.
        answer = {f"utter_faq/{key}": result["responses"]}
        messages.append(_message(f"utter_faq/{key}", language, answer, answer_values(hours, now, language)))
        offer = faq is not None and faq.offer_agent
        for name, values in after_faq(key, offer, hours, now, language):
            messages.append(_message(name, language, responses, values))
    else:
        action = _rule_action(root, label or "")
        if action in responses:
            messages.append(_message(action, language, responses))
        else:
            note = f"Not an FAQ: the bot runs {action or 'no rule'} for “{label}”."
    return Answer(label, faq, confidence, fallback_threshold(root / "config.yml"),
                  result["intent"] == FALLBACK_INTENT, detected, language, ranking[1:], messages, note)
