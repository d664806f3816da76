"""The not-understood inbox: which messages, grouped how, with which FAQ, and dismissals that stick."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from bot.insights import not_understood
from bot.insights.reader import EventInsights
from core.clock import FixedClock

from .recorder import Recorder, sqlite_url

NOW = 1_800_000_000.0
CLOCK = FixedClock(datetime.fromtimestamp(NOW, timezone.utc))
CUSTOMER = "5215512341234"


@pytest.fixture
def url(tmp_path):
    url = sqlite_url(tmp_path)
    rec = Recorder(url)
    t = NOW - 3600
    track = [("order_tracking", 0.3), ("shipping_time", 0.2)]
    rec.turn(CUSTOMER, t, "donde esta mi pedido", fallback=True, ranking=track)
    rec.turn("c2", t + 1, "dónde está mi pedidoo", fallback=True, ranking=[("order_tracking", 0.25)])
    rec.turn("c3", t + 2, "Donde esta mi pedido??", fallback=True, handoff=True,
             ranking=[("shipping_time", 0.22), ("order_tracking", 0.21)])
    rec.turn("c4", t + 3, "tienen tenis para correr", fallback=True, ranking=[("stock_availability", 0.3)],
             language="es")
    rec.turn("c5", t + 4, "do you have running shoes", fallback=True, ranking=[("stock_availability", 0.2)],
             language="en")
    rec.turn("c6", t + 5, "tienen tenis de correr", fallback=True, ranking=[("stock_availability", 0.4)])
    # Not in the inbox: understood, a button payload, a message to the agent, older than the inbox.
    rec.turn("c7", t + 6, "cuanto cuesta el envio", faq="shipping_cost")
    rec.turn("c8", t + 7, '/faq_pick{"faq_key":"nope"}', fallback=True)
    rec.turn("c9", t + 8, "no entiendo nada", fallback=True, paused=True)
    rec.turn("c10", NOW - 40 * 86400, "mensaje viejo", fallback=True)
    return url


def test_fallback_messages_are_grouped_by_similarity_with_the_faq_most_likely_meant(url):
    groups = EventInsights(url, clock=CLOCK).not_understood()
    texts = [sorted(m.text for m in g.messages) for g in groups]
    assert texts == [
        ["Donde esta mi pedido??", "donde esta mi pedido", "dónde está mi pedidoo"],
        ["tienen tenis de correr", "tienen tenis para correr"],
        ["do you have running shoes"],
    ]
    tracking, running, english = groups
    assert tracking.likely_faq == "order_tracking"
    assert tracking.confidence == pytest.approx((0.3 + 0.25) / 2)
    assert running.likely_faq == "stock_availability" and running.confidence == pytest.approx(0.35)
    assert english.messages[0].language == "en"
    # Handed over after the miss: flagged, still in the inbox.
    assert [m.handed_off for m in tracking.messages if m.text.startswith("D")] == [True]


def test_nothing_but_the_message_text_identifies_the_customer(url):
    groups = EventInsights(url, clock=CLOCK).not_understood()
    fields = {f.name for f in dataclasses.fields(not_understood.Message)}
    assert fields == {"event_id", "text", "language", "at", "likely_faq", "confidence", "handed_off"}
    assert CUSTOMER not in repr(groups)


def test_a_dismissed_group_stays_dismissed(url):
    insights = EventInsights(url, clock=CLOCK)
    tracking = insights.not_understood()[0]
    assert insights.dismiss(tracking.event_ids, by="lucia") == 3
    assert insights.dismiss(tracking.event_ids, by="lucia") == 0  # twice is harmless
    # A new reader (a console restart) sees the same: the dismissals are in the store.
    again = EventInsights(url, clock=CLOCK).not_understood()
    assert all("pedido" not in m.text for g in again for m in g.messages)
    assert len(again) == 2


def test_one_message_is_one_group():
    message = not_understood.Message(1, "hola?", "es", NOW, None, 0.0, False)
    [group] = not_understood.groups([message])
    assert group.messages == [message] and group.likely_faq is None
