"""FAQ health and per-FAQ figures computed from a known set of events in a real SQLite store."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.insights.reader import EventInsights
from core.clock import FixedClock

from .recorder import Recorder, sqlite_url

DAY1 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc).timestamp()
DAY2 = datetime(2026, 3, 3, 18, 0, tzinfo=timezone.utc).timestamp()
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc).timestamp()
CLOCK = FixedClock(datetime.fromtimestamp(NOW, timezone.utc))


@pytest.fixture
def insights(tmp_path):
    url = sqlite_url(tmp_path)
    rec = Recorder(url)
    # Before the range: must not count.
    rec.turn("c0", DAY1 - 3 * 86400, "cuánto cuesta el envío", faq="shipping_cost")
    # Day 1: two FAQ answers, one chat handed over right after an FAQ, a message to the agent.
    rec.turn("c1", DAY1, "cuánto cuesta el envío", faq="shipping_cost", reply_after=0.4)
    rec.turn("c1", DAY1 + 60, "gracias", reply_after=0.2)
    rec.turn("c2", DAY1 + 10, "a qué hora abren", faq="opening_hours", reply_after=1.0)
    rec.turn("c2", DAY1 + 120, "quiero hablar con alguien", handoff=True, reply_after=0.6)
    rec.turn("c2", DAY1 + 180, "hola?", paused=True)
    # Day 2: two misses in a row (the second hands over), one FAQ answer.
    rec.turn("c3", DAY2, "asdfgh", fallback=True, reply_after=0.3)
    rec.turn("c3", DAY2 + 30, "qwerty zz", fallback=True, handoff=True, reply_after=0.3)
    rec.turn("c4", DAY2 + 5, "cuanto cuesta el envio", faq="shipping_cost", reply_after=0.5)
    return EventInsights(url, clock=CLOCK)


def test_health_per_day_from_known_events(insights):
    result = insights.health(date(2026, 3, 1), date(2026, 3, 3))
    empty, day1, day2 = result.days
    assert [d.day for d in result.days] == [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]
    assert (empty.messages, empty.fallback_rate, empty.median_seconds) == (0, None, None)
    # The message written to the agent (paused chat) is not the bot's.
    assert (day1.messages, day1.faq_answers, day1.fallbacks, day1.handoffs) == (4, 2, 0, 1)
    assert day1.fallback_rate == 0 and day1.handoff_rate == pytest.approx(0.25)
    assert day1.median_seconds == pytest.approx(0.5)          # 0.2 0.4 | 0.6 1.0
    assert day1.p90_seconds == pytest.approx(0.88)            # linear between 0.6 and 1.0
    assert (day2.messages, day2.faq_answers, day2.fallbacks, day2.handoffs) == (3, 1, 2, 1)
    assert day2.fallback_rate == pytest.approx(2 / 3) and day2.handoff_rate == pytest.approx(1 / 3)
    assert day2.median_seconds == pytest.approx(0.3) and day2.p90_seconds == pytest.approx(0.46)
    assert result.top_faqs == [("shipping_cost", 2), ("opening_hours", 1)]
    assert result.top_not_understood == [("asdfgh", 1), ("qwerty zz", 1)]
    total = result.total
    assert (total.messages, total.faq_answers, total.fallbacks, total.handoffs) == (7, 3, 2, 2)


def test_days_are_cut_in_the_zone_asked_for(insights):
    # 18:00 UTC on 3 March is already 4 March in Asia/Tokyo (UTC+9).
    from zoneinfo import ZoneInfo

    result = insights.health(date(2026, 3, 3), date(2026, 3, 4), ZoneInfo("Asia/Tokyo"))
    assert [d.messages for d in result.days] == [0, 3]


def test_faq_stats_counts_hits_since_and_the_share_that_ended_in_a_handoff(insights):
    assert insights.faq_stats(datetime(2026, 3, 1, tzinfo=timezone.utc)) == {
        "shipping_cost": (2, 0.0),
        "opening_hours": (1, 1.0),  # the customer's next message was handed over
    }
    assert insights.faq_stats(DAY2) == {"shipping_cost": (1, 0.0)}
