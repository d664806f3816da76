"""The CSAT store (bot/csat.py): one answer per resolve, per agent and per day asked."""
from __future__ import annotations

import datetime as dt

import pytest

from bot import csat
from bot.hours.replies import domain_responses
from core.clock import FixedClock

UTC = dt.timezone.utc
MEXICO = dt.timezone(dt.timedelta(hours=-6))
MONDAY = dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FixedClock(MONDAY)


@pytest.fixture
def store(redis_client, clock):
    return csat.Csat(redis_client, clock)


def test_one_answer_per_resolve_a_repeated_tap_is_not_counted(store):
    store.ask("521", "ana")
    assert store.answer("521", "good") is True
    assert store.answer("521", "bad") is False
    (row,) = store.results(MONDAY.date(), MONDAY.date(), UTC)
    assert (row.agent, row.asked, row.scores, row.good_share) == ("ana", 1, {"good": 1, "okay": 0, "bad": 0}, 1.0)


def test_a_tap_after_the_answer_days_is_too_late(store, clock):
    store.ask("521", "ana")
    clock.advance(hours=24 * csat.ANSWER_DAYS + 1)
    assert store.answer("521", "good") is False


def test_a_later_resolve_replaces_the_open_question(store):
    store.ask("521", "ana")
    store.ask("521", "luis")
    assert store.answer("521", "okay") is True
    rows = {r.agent: r for r in store.results(MONDAY.date(), MONDAY.date(), UTC)}
    assert (rows["ana"].asked, rows["ana"].answered) == (1, 0)
    assert (rows["luis"].asked, rows["luis"].scores["okay"]) == (1, 1)


def test_results_per_agent_and_per_day_asked_in_the_display_zone(store, clock):
    store.ask("521", "ana")                      # Monday 09:00 in Mexico
    clock.advance(hours=10)                      # Tuesday 01:00 UTC, still Monday 19:00 in Mexico
    store.ask("522", "ana")
    clock.advance(hours=2)
    assert store.answer("521", "good") and store.answer("522", "bad")  # answered later: the day asked counts
    monday = MONDAY.date()
    (row,) = store.results(monday, monday, MEXICO)
    assert (row.day, row.asked, row.scores["good"], row.scores["bad"]) == (monday, 2, 1, 1)
    by_day = [(r.day, r.asked) for r in store.results(monday, monday + dt.timedelta(days=1), UTC)]
    assert by_day == [(monday + dt.timedelta(days=1), 1), (monday, 1)]  # newest first
    assert csat.totals(store.results(monday, monday, MEXICO))["ana"].answered == 2


def test_a_question_that_could_not_be_sent_is_withdrawn(store):
    question = store.ask("521", "ana")
    store.withdraw("521", question)
    assert store.answer("521", "good") is False
    assert store.results(MONDAY.date(), MONDAY.date(), UTC) == []


@pytest.mark.parametrize("language, titles", [("es", ["👍 Bien", "😐 Regular", "👎 Mal"]),
                                              ("en", ["👍 Good", "😐 Okay", "👎 Bad"])])
def test_the_question_is_the_domain_response_in_the_language_and_its_buttons_are_scores(language, titles):
    event = csat.question(language)
    assert [b["title"] for b in event["data"]["buttons"]] == titles
    assert [csat.score_of(b["payload"]) for b in event["data"]["buttons"]] == list(csat.SCORES)


def test_replies_are_domain_responses():
    responses = domain_responses()
    assert csat.reply(True, "en", responses).startswith("Thank you")
    assert csat.reply(False, "es", responses) != csat.reply(True, "es", responses)
    assert csat.score_of("/csat_great") is None and csat.score_of("👍 Bien") is None
