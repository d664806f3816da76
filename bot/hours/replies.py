"""What the bot says about its hours at a given instant, for the actions and the console's preview.

The actions (actions/handoff.py, actions/faq.py) send domain responses filled with these values;
the hours editor's preview renders the same responses with the same values, so what a lead sees
for "Friday 23:30" is what a customer gets then.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bot.content.catalog import ROOT, read_yaml, variation_language
from bot.hours.schedule import BusinessHours

DOMAIN_FILE = ROOT / "domain.yml"


def opening_status(hours: BusinessHours, at: dt.datetime, language: str) -> tuple[bool, dict[str, str]]:
    """Open now?, and the values of utter_open_now ({until}) or utter_closed_now ({back})."""
    if hours.is_open(at):
        closing = hours.next_closing(at)
        return True, {"until": closing.strftime("%H:%M") if closing else ""}
    return False, {"back": hours.back_message(at, language)}


OPEN_NOW, CLOSED_NOW = "utter_open_now", "utter_closed_now"
OFFER_AGENT, ANYTHING_ELSE = "utter_offer_agent", "utter_anything_else"
# The responses after_faq names: the action server sends them, so bot/content/rasa_check.py
# counts them as used (Rasa sees them in no rule).
FOLLOW_UP_RESPONSES = (OPEN_NOW, CLOSED_NOW, OFFER_AGENT, ANYTHING_ELSE)


def now_reply(hours: BusinessHours, at: dt.datetime, language: str) -> tuple[str, dict[str, str]]:
    """The response that answers "open now?" at `at`, with its values."""
    is_open, values = opening_status(hours, at, language)
    return (OPEN_NOW if is_open else CLOSED_NOW), values


# The FAQ whose answer (the week's hours) is followed by the answer for *now*.
HOURS_FAQ = "opening_hours"


def after_faq(key: str, offers_agent: bool, hours: BusinessHours, at: dt.datetime,
              language: str) -> list[tuple[str, dict[str, str]]]:
    """What follows FAQ `key`'s answer, in order, as (response, values): what actions/faq.py
    sends and what the console's previews show."""
    follow = [now_reply(hours, at, language)] if key == HOURS_FAQ else []
    follow.append((OFFER_AGENT if offers_agent else ANYTHING_ELSE, {}))
    return follow


def variation(name: str, language: str, responses: dict[str, Any]) -> dict[str, Any]:
    """The variation of response ``name`` Rasa picks for ``language``: the one its condition
    selects, else the one without a condition."""
    variations = responses.get(name) or []
    chosen = next((v for v in variations if variation_language(v) == language), None)
    chosen = chosen or next((v for v in variations if not v.get("condition")), None)
    if chosen is None:
        raise KeyError(f"no response {name!r} in the domain")
    return chosen


def fill(text: str, values: dict[str, Any]) -> str:
    """A response text filled as Rasa fills it (its own interpolator)."""
    from rasa.core.nlg.interpolator import interpolate_text  # heavy; only the previews need it

    return interpolate_text(text, values)


def render(name: str, language: str, values: dict[str, Any], responses: dict[str, Any]) -> str:
    """The text of response ``name`` in ``language`` as Rasa fills it."""
    return fill(str(variation(name, language, responses).get("text") or ""), values)


def domain_responses(path: Path = DOMAIN_FILE) -> dict[str, Any]:
    return read_yaml(path).get("responses") or {}
