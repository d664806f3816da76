"""The preview at fixed instants: the answers the actions would send then, word for word."""
from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.hours import BusinessHours
from bot.hours.replies import domain_responses, render
from console.workspace.hours_preview import parse_instant, preview
from core.clock import FixedClock


def said(hours, date, time, language):
    return {s.asked.split(" (")[0]: s.text for s in preview(hours, parse_instant(date, time, hours), language)}


@pytest.fixture
def hours(hours_path):
    return BusinessHours.from_file(hours_path)


def test_friday_night_shift_is_open_until_two(hours):
    answers = said(hours, "2026-11-28", "01:00", "es")  # Saturday 01:00, Friday's 22:00-02:00 shift
    assert answers["Asks “are you open now?”"] == "En este momento estamos *abiertos* ✅ hasta las 02:00 (hora CDMX)."
    assert answers["Asks for a person"] is None and answers["Says hello"] is None


def test_christmas_is_closed_and_says_when_the_team_is_back(hours):
    answers = said(hours, "2026-12-25", "12:00", "en")
    assert answers["Asks “are you open now?”"] == "Right now we are *closed*. Our team is back tomorrow at 10:00 AM."
    assert answers["Says hello"].startswith("🌙 We're outside business hours. Our team is back tomorrow at 10:00 AM.")
    assert "Our team is back tomorrow at 10:00 AM." in answers["Asks for a person"]
    assert "• Friday, December 25 (Navidad): closed" in answers["Asks for the opening hours"]


def test_holidays_are_listed_only_when_they_are_near(hours):
    assert "Fechas especiales" not in said(hours, "2026-10-01", "12:00", "es")["Asks for the opening hours"]
    assert "• Jueves 24 de diciembre (Nochebuena): 10:00–15:00" in said(
        hours, "2026-12-01", "12:00", "es")["Asks for the opening hours"]


@pytest.fixture
def handoff(hours_path):
    import actions.handoff

    actions.handoff._hours_file.cache_clear()  # read BUSINESS_HOURS_FILE (the copy) afresh
    yield actions.handoff
    actions.handoff._hours_file.cache_clear()


@pytest.mark.parametrize("instant", ["2026-12-24 15:30", "2026-11-27 23:30", "2026-11-29 09:00"])
def test_the_preview_says_what_the_action_says(hours, handoff, monkeypatch, instant):
    at = parse_instant(*instant.split(), hours)
    import actions.faq as faq_actions

    monkeypatch.setattr(faq_actions, "SYSTEM_CLOCK", FixedClock(at.astimezone(dt.timezone.utc)))
    dispatcher = CollectingDispatcher()
    faq_actions.follow_up(dispatcher, Tracker("c", {"language": "es"}, {}, [], False, None, {}, "action_listen"),
                          "opening_hours")
    message = dispatcher.messages[0]
    values = {k: v for k, v in message.items() if k in ("until", "back")}
    expected = render(message["response"], "es", values, domain_responses())
    assert said(hours, *instant.split(), "es")["Asks “are you open now?”"] == expected
