"""The hours actions read hours.yml as it is now, and the opening-hours answer is filled from it."""
from __future__ import annotations

import datetime as dt
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from core.clock import FixedClock

ALWAYS = "timezone: UTC\nweekly:\n" + "".join(
    f"  {day}: ['00:00-24:00']\n" for day in ("monday", "tuesday", "wednesday", "thursday", "friday",
                                              "saturday", "sunday"))
NEVER = "timezone: UTC\nweekly: {}\n"


def tracker(language="es", latest=None):
    return Tracker("5215500000000", {"language": language}, latest or {}, [], False, None, {}, "action_listen")


@pytest.fixture
def hours_file(tmp_path, monkeypatch):
    path = tmp_path / "hours.yml"
    path.write_text(ALWAYS)
    monkeypatch.setenv("BUSINESS_HOURS_FILE", str(path))
    return path


@pytest.fixture
def handoff_actions(hours_file):
    import actions.handoff

    # As in a process started now; and the next test must not keep this test's file.
    actions.handoff._hours_file.cache_clear()
    yield actions.handoff
    actions.handoff._hours_file.cache_clear()


def test_are_you_open_follows_a_saved_hours_file_without_a_restart(handoff_actions, hours_file):
    import actions.faq as faq_actions

    dispatcher = CollectingDispatcher()
    faq_actions.follow_up(dispatcher, tracker(), "opening_hours")
    hours_file.write_text(NEVER)
    faq_actions.follow_up(dispatcher, tracker(), "opening_hours")
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_open_now", "utter_anything_else", "utter_closed_now", "utter_anything_else"]


def test_the_opening_hours_answer_gets_the_hours_of_the_file(handoff_actions, hours_file, monkeypatch):
    import actions.faq as faq_actions

    monkeypatch.setattr(faq_actions, "SYSTEM_CLOCK", FixedClock(dt.datetime(2026, 12, 20, 12, tzinfo=dt.timezone.utc)))
    typed = {"text": "horario", "response_selector": {
        "faq": {"response": {"intent_response_key": "faq/opening_hours"}}}}
    domain = {"responses": {"utter_faq/opening_hours": [{"text": "{hours_week}{hours_special}"}]}}
    hours_file.write_text(ALWAYS + "special:\n  '12-25': {name: Navidad, hours: closed}\n")
    dispatcher = CollectingDispatcher()
    faq_actions.ActionAnswerFaq().run(dispatcher, tracker("en", typed), domain)
    answer = dispatcher.messages[0]
    assert answer["response"] == "utter_faq/opening_hours"
    assert answer["hours_week"] == "• Monday to Sunday: 00:00–24:00"
    assert answer["hours_special"] == "\n\n*Special dates*\n• Friday, December 25 (Navidad): closed"
    # The live "open now?" line and "anything else?" follow, as for every typed FAQ.
    assert [m["response"] for m in dispatcher.messages[1:]] == ["utter_open_now", "utter_anything_else"]
