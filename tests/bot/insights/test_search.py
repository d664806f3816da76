"""A customer's conversations and the search over a real SQLite event store filled by Rasa's broker."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.insights.reader import EventInsights
from bot.insights.search import Query, segment

from .conversations import Conversations
from .recorder import sqlite_url

MARIA, JUAN = "5215512341234", "5491122223333"
DAY1 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.timezone.utc).timestamp()
HOUR, DAY = 3600.0, 86400.0


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Written once for the module (each event is one commit of Rasa's broker); the tests only read."""
    url = sqlite_url(tmp_path_factory.mktemp("events"))
    insights = EventInsights(url)
    insights.engine  # the tables and index, as the console makes them before Rasa writes
    rec = Conversations(url)
    # María, day 1: asks the bot, is handed to ana, resolved; then thanks the bot.
    rec.session(MARIA, DAY1)
    rec.customer(MARIA, DAY1 + 1, "Hola, mi pedido no llegó", "María López")
    rec.bot(MARIA, DAY1 + 2, "Hola, ¿en qué te ayudo?")
    rec.customer(MARIA, DAY1 + 60, "quiero hablar con una persona", "María López")
    rec.handoff(MARIA, DAY1 + 61)
    rec.agent(MARIA, DAY1 + 300, "ana", "Lo reviso, ¿me das tu número de pedido?")
    rec.customer(MARIA, DAY1 + 360, "me dijeron 100% de descuento_ok", "María López")
    rec.resolve(MARIA, DAY1 + 600)
    rec.customer(MARIA, DAY1 + 1200, "gracias", "María López")
    rec.bot(MARIA, DAY1 + 1201, "De nada")
    # Juan, day 2: bot only, texts that an unescaped % or _ would match.
    rec.session(JUAN, DAY1 + DAY)
    rec.customer(JUAN, DAY1 + DAY + 1, "hay 1000 descuentos?", "Juan Pérez")
    rec.customer(JUAN, DAY1 + DAY + 2, "el descuentoXok", "Juan Pérez")
    # María, day 3: a photo (Rasa gets a payload, the caption is in the connector's facts).
    rec.session(MARIA, DAY1 + 2 * DAY)
    rec.customer(MARIA, DAY1 + 2 * DAY + 1, '/media_received{"kind":"image"}', "María L.",
                 typed="me llegó así el zapato")
    # María, day 4: waits past Rasa's session expiry in the queue; the connector restarts the
    # session and pauses it again: still one handoff.
    rec.session(MARIA, DAY1 + 3 * DAY)
    rec.customer(MARIA, DAY1 + 3 * DAY + 1, "necesito ayuda con una talla", "María L.")
    rec.handoff(MARIA, DAY1 + 3 * DAY + 2)
    rec.session(MARIA, DAY1 + 3 * DAY + 2 * HOUR)
    rec.handoff(MARIA, DAY1 + 3 * DAY + 2 * HOUR)
    rec.customer(MARIA, DAY1 + 3 * DAY + 2 * HOUR + 1, "sigo esperando", "María L.")
    rec.agent(MARIA, DAY1 + 3 * DAY + 2 * HOUR + 60, "luis", "Perdón la espera")
    rec.resolve(MARIA, DAY1 + 3 * DAY + 2 * HOUR + 120)
    return insights.search


def texts(page):
    return [h.event.get("text") for h in page.hits]


def test_a_customers_conversations_are_handoff_episodes_and_bot_sessions_newest_first(store):
    day4, day3, thanks, day1 = store.conversations(MARIA)
    assert day1.handoff and day1.agents == ["ana"] and day1.customer_messages == 3
    assert day1.first_customer["text"] == "Hola, mi pedido no llegó"
    # The resolve ended it: the next message is a new conversation with the bot.
    assert not thanks.handoff and thanks.first_customer["text"] == "gracias" and thanks.agents == []
    assert day3.name == "María L." and not day3.handoff
    # The session restarted while a person held the chat: one conversation, not two.
    assert day4.handoff and day4.agents == ["luis"] and day4.customer_messages == 2
    assert day4.started_at == DAY1 + 3 * DAY and day4.ended_at == DAY1 + 3 * DAY + 2 * HOUR + 120
    assert store.conversations("nobody") == []


def test_one_conversation_opens_with_only_its_own_events(store):
    day1 = store.conversations(MARIA)[-1]
    conversation, events = store.conversation(MARIA, day1.start_id)
    assert conversation.agents == ["ana"]
    said = [e.get("text") for e in events if e["event"] in ("user", "bot")]
    assert said[0] == "Hola, mi pedido no llegó" and said[-1] == "me dijeron 100% de descuento_ok"
    assert [e["event"] for e in events].count("resume") == 1
    assert store.conversation(MARIA, day1.start_id + 1) is None


def test_text_search_takes_percent_and_underscore_literally(store):
    assert texts(store.search(Query(text="100%"))) == ["me dijeron 100% de descuento_ok"]
    assert texts(store.search(Query(text="o_ok"))) == ["me dijeron 100% de descuento_ok"]
    assert texts(store.search(Query(text="descuento"))) == [
        "el descuentoXok", "hay 1000 descuentos?", "me dijeron 100% de descuento_ok"]


def test_text_search_finds_agents_replies_and_captions_but_not_the_bots_answers(store):
    hit, = store.search(Query(text="número de pedido")).hits
    assert hit.event["metadata"]["agent"] == "ana" and hit.conversation.agents == ["ana"]
    assert store.search(Query(text="en qué te ayudo")).hits == []
    photo, = store.search(Query(text="ZAPATO")).hits
    assert photo.sender == MARIA and photo.conversation.start_id == store.conversations(MARIA)[1].start_id


def test_number_and_name_search_find_the_customer(store):
    assert {h.sender for h in store.search(Query(number="+52 1 55 1234 1234")).hits} == {MARIA}
    assert {h.sender for h in store.search(Query(number="1234-1234")).hits} == {MARIA}
    assert store.search(Query(number="no digits")).hits == []
    assert {h.sender for h in store.search(Query(name="juan pé")).hits} == {JUAN}
    # Any name the customer ever had on WhatsApp finds all their messages.
    assert len(store.search(Query(name="maría l.")).hits) == 7
    customers = store.customers(Query(name="a"))
    assert [c.sender for c in customers] == [MARIA, JUAN]
    assert customers[0].name == "María L." and customers[1].name == "Juan Pérez"


def test_the_date_range_and_the_label_ranges_narrow_the_search(store):
    day3 = store.search(Query(since=DAY1 + 2 * DAY, until=DAY1 + 3 * DAY))
    assert [h.event["metadata"]["whatsapp"]["text"] for h in day3.hits] == ["me llegó así el zapato"]
    labelled = store.search(Query(within=((MARIA, DAY1 + 50, DAY1 + 700),)))
    assert texts(labelled) == ["me dijeron 100% de descuento_ok", "quiero hablar con una persona"]
    assert store.search(Query(within=())).hits == []
    assert texts(store.search(Query(text="descuento", number="549"))) == ["el descuentoXok", "hay 1000 descuentos?"]


def test_pages_go_newest_first_without_gaps_or_repeats(store):
    everything = store.search(Query(), limit=100)
    assert everything.next_before is None and len(everything.hits) == 9
    seen, before = [], None
    while True:
        page = store.search(Query(), before=before, limit=2)
        seen += [h.event_id for h in page.hits]
        if page.next_before is None:
            break
        before = page.next_before
    assert seen == [h.event_id for h in everything.hits] == sorted(seen, reverse=True)


def test_the_segmentation_rule_on_its_own():
    rows = [(1, "a", {"event": "user", "text": "x", "timestamp": 1}),
            (2, "a", {"event": "pause", "timestamp": 2}),
            (3, "a", {"event": "user", "text": "y", "timestamp": 3}),
            (4, "a", {"event": "resume", "timestamp": 4}),
            (5, "a", {"event": "bot", "text": "closing", "metadata": {"agent": "ana"}, "timestamp": 4}),
            (6, "a", {"event": "user", "text": "z", "timestamp": 5}),
            (7, "a", {"event": "resume", "timestamp": 6}),
            # Reopened from the history: the console pauses the bot, then the agent writes.
            (8, "a", {"event": "pause", "timestamp": 7}),
            (9, "a", {"event": "bot", "text": "sigo aquí", "metadata": {"agent": "luis"}, "timestamp": 8})]
    first, second, reopened = segment(rows)
    # The agent's goodbye after the resume still belongs to the handoff it closes.
    assert (first.start_id, first.end_id, first.agents) == (1, 5, ["ana"])
    assert (second.start_id, second.first_customer["text"]) == (6, "z")
    assert (reopened.start_id, reopened.handoff, reopened.agents) == (8, True, ["luis"])


def test_on_postgresql_the_connectors_nested_fields_are_read_by_their_json_path():
    from sqlalchemy.dialects import postgresql

    from bot.insights.store import event_field

    sql = str(event_field("postgresql", "metadata.whatsapp.name").compile(dialect=postgresql.dialect()))
    assert sql == "CAST(CAST(events.data AS JSON) #>> %(param_1)s AS VARCHAR)"
