"""bot/handoff/metrics.py: who waits for a person (read from Redis at scrape time) and how long
the chats a person took had waited."""
from __future__ import annotations

import datetime as dt

from bot.handoff import Handoff
from bot.handoff.metrics import HandoffCollector
from core.clock import FixedClock
from core.metrics import scrape
from tests.prometheus import value

NOON = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)
FIRST, SECOND = "34600000001", "34600000002"


def test_the_gauges_and_the_waits_follow_the_queue(redis_client):
    clock = FixedClock(NOON)
    handoff = Handoff(redis_client, clock)
    collector = HandoffCollector(handoff)

    def scraped() -> str:
        return scrape(None, [collector], env={}).body.decode()

    before = scraped()
    handoff.request(FIRST, reason="asked for a person", last_message="quiero hablar con alguien")
    clock.advance(seconds=30)
    handoff.request(SECOND)
    clock.advance(seconds=60)
    text = scraped()
    assert value(text, "handoff_waiting") == 2
    assert value(text, "handoff_oldest_wait_seconds") == 90
    assert handoff.claim(FIRST, "ana")
    clock.advance(seconds=10)
    handoff.assign(SECOND, "ana", by_lead="lucia")
    text = scraped()
    assert value(text, "handoff_waiting") == 0 and value(text, "handoff_oldest_wait_seconds") == 0
    assert value(text, "handoff_assigned") == 2
    assert value(text, "handoff_agents_online") == 1
    # Waited 90 s (claimed) and 70 s (given by a lead); a failed claim measures nothing.
    assert not handoff.claim(FIRST, "luis")
    assert value(text, "handoff_wait_seconds_count") - value(before, "handoff_wait_seconds_count") == 2
    assert value(text, "handoff_wait_seconds_sum") - value(before, "handoff_wait_seconds_sum") == 160
    assert value(scraped(), "handoff_wait_seconds_count") == value(text, "handoff_wait_seconds_count")
    assert "quiero" not in text and FIRST not in text
