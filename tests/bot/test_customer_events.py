"""The record of what customers did besides writing (bot/customer_events.py), on a real Redis."""
from __future__ import annotations

from decimal import Decimal

from bot import customer_events as ce
from bot import orders

CONV = "5215500000001"


def edit(id_: str, at: float, text: str, target: str = "wamid.A") -> ce.CustomerEvent:
    return ce.CustomerEvent(id=id_, kind=ce.EDIT, at=at, target=target, text=text)


def test_recording_the_same_event_twice_keeps_one(redis_client):
    store = ce.CustomerEvents(redis_client)
    event = edit("wamid.E1", 100, "nuevo")
    store.record(CONV, event)
    store.record(CONV, ce.CustomerEvent.from_json(event.to_json()))  # a turn re-run after a crash
    assert store.of(CONV) == [event]
    assert redis_client.keys("*") == [ce.key(CONV)]


def test_the_latest_edit_by_metas_time_wins_whatever_order_they_arrive_in(redis_client):
    store = ce.CustomerEvents(redis_client)
    store.record(CONV, edit("wamid.E2", 200, "second"))
    store.record(CONV, edit("wamid.E1", 100, "first"))  # a retry delivered late
    store.record(CONV, ce.CustomerEvent(id="wamid.R", kind=ce.REVOKE, at=300, target="wamid.A"))
    change = ce.changes(store.of(CONV))["wamid.A"]
    assert change.edited_text == "second" and change.deleted_at is not None


def test_the_record_is_bounded(redis_client, monkeypatch):
    monkeypatch.setattr(ce, "MAX_EVENTS", 3)
    store = ce.CustomerEvents(redis_client)
    for n in range(5):
        store.record(CONV, ce.CustomerEvent(id=f"wamid.{n}", kind=ce.REACTION, at=n, target="x", text="👍"))
    assert [e.id for e in store.of(CONV)] == ["wamid.2", "wamid.3", "wamid.4"]


def test_agents_read_reactions_and_other_events_as_lines():
    events = [ce.CustomerEvent(id="1", kind=ce.REACTION, at=1, target="wamid.B", text="👍"),
              ce.CustomerEvent(id="2", kind=ce.REACTION, at=2, target="wamid.B", text=""),
              ce.CustomerEvent(id="3", kind=ce.UNKNOWN, at=3, value="hologram"),
              edit("4", 4, "x")]
    assert [text for _, text in ce.lines(events)] == [
        "Customer reacted 👍 to a message", "Customer removed a reaction",
        "Customer sent a WhatsApp hologram this desk cannot show"]


def test_an_order_total_is_exact_and_missing_prices_make_it_unknown():
    summary = orders.summarize({"text": " para el martes ", "items": [
        {"product_retailer_id": "A", "quantity": 3, "item_price": 0.1, "currency": "MXN"},
        {"product_retailer_id": "B", "quantity": 1, "item_price": "1299.9", "currency": "MXN"}]})
    assert summary.totals == (("MXN", Decimal("1300.2")),)
    assert summary.text == "Order, total MXN 1,300.20: 3 × A; 1 × B · “para el martes”"
    broken = orders.summarize({"items": [{"product_retailer_id": "A", "quantity": 2, "currency": "MXN"},
                                         {"product_retailer_id": "B", "quantity": 1, "item_price": 5, "currency": "MXN"}]})
    assert broken.total_text == "unknown" and broken.lines[0].subtotal_text == "?"
    assert orders.preview(None) is None
