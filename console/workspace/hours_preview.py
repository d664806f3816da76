""""What the bot says at this date and time": the hours answers, computed as the bot computes them.

The values come from bot/hours (the functions actions/handoff.py and actions/faq.py call) and the
texts from the domain and the FAQ file, filled by Rasa's own interpolator; only which response
an action picks is repeated here, next to the action it mirrors.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.content.catalog import load_catalog
from bot.hours import BusinessHours
from bot.hours.replies import HOURS_FAQ, domain_responses, now_reply, render
from bot.hours.wording import answer_values


@dataclass(frozen=True)
class Said:
    asked: str          # what the customer does
    text: str | None    # what the bot answers; None when it sends nothing of this kind
    note: str = ""      # when and why, for the lead


def parse_instant(date: str, time: str, hours: BusinessHours) -> dt.datetime:
    """A wall-clock date and time in the business zone (the zone being edited)."""
    naive = dt.datetime.combine(dt.date.fromisoformat(date), dt.time.fromisoformat(time))
    return naive.replace(tzinfo=hours.tz)


def preview(hours: BusinessHours, at: dt.datetime, language: str) -> list[Said]:
    responses = dict(domain_responses())
    faq = load_catalog().get(HOURS_FAQ)
    if faq is not None:
        responses[faq.response] = [v.raw for vs in faq.answers.values() for v in vs]
    is_open = hours.is_open(at)
    now_response, status = now_reply(hours, at, language)
    back = {"back": hours.back_message(at, language)}
    said = []
    if faq is not None:
        said.append(Said("Asks for the opening hours (the FAQ answer)",
                         render(faq.response, language, answer_values(hours, at, language), responses)))
    # bot/hours/replies.py after_faq: follows the opening-hours answer.
    said.append(Said("Asks “are you open now?” (sent after the hours answer)",
                     render(now_response, language, status, responses)))
    # actions/handoff.py hand_off: after hours the customer is told when a person is back.
    if is_open:
        said.append(Said("Asks for a person", None, "Open: the chat joins the queue for the next agent."))
    else:
        said.append(Said("Asks for a person", render("utter_handoff_after_hours", language, back, responses),
                         "Closed: the chat keeps its place in the queue for when the team is back."))
    # actions/handoff.py ActionGreet: the notice goes out once per conversation and closed period.
    if is_open:
        said.append(Said("Says hello", None, "Open: no after-hours notice."))
    else:
        said.append(Said("Says hello", render("utter_after_hours_notice", language, back, responses),
                         "Sent with the greeting, once per conversation and closed period."))
    return said
