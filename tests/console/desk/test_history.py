"""A Rasa tracker shown as the customer saw it: buttons, lists, taps, media, agents, templates."""
from __future__ import annotations

from console.desk.history import messages_from_tracker


def _buttons(n):
    return [{"title": f"Opción {i}", "payload": f'/faq_pick{{"faq_key":"k{i}"}}'} for i in range(n)]


def test_history_shows_messages_as_the_customer_saw_them():
    tracker = {"events": [
        {"event": "user", "text": "hola", "timestamp": 1},
        {"event": "bot", "text": "¿Qué necesitas?", "data": {"buttons": _buttons(3)}, "timestamp": 2},
        {"event": "user", "text": '/faq_pick{"faq_key":"k1"}', "timestamp": 3},
        {"event": "bot", "text": "Menú", "data": {"buttons": _buttons(6)}, "timestamp": 4},
        {"event": "action", "name": "action_listen"},
        {"event": "pause", "timestamp": 5},
        {"event": "bot", "text": "Hola, soy Ana", "metadata": {"agent": "ana"}, "timestamp": 6},
        {"event": "bot", "data": {"custom": {"type": "template", "template": {
            "name": "reengage_es", "components": [{"type": "body", "parameters": [{"type": "text", "text": "María"}]}]}}},
         "metadata": {"agent": "ana"}, "timestamp": 7},
        {"event": "resume", "timestamp": 8},
    ]}
    def render(template):
        return f"Hola {template['components'][0]['parameters'][0]['text']}" if template["name"] == "reengage_es" else None
    msgs = messages_from_tracker(tracker, render)
    assert [m.kind for m in msgs] == ["customer", "bot", "customer", "bot", "system", "agent", "agent", "system"]
    assert msgs[1].buttons == ["Opción 0", "Opción 1", "Opción 2"] and msgs[1].rows == []
    assert msgs[2].text == "Opción 1"  # the tapped title, not the payload
    assert msgs[3].rows == [f"Opción {i}" for i in range(6)] and msgs[3].buttons == []
    assert msgs[5].agent == "ana"
    assert msgs[6].template == "reengage_es" and msgs[6].text == "Hola María"


def test_customer_taps_and_media_show_what_was_sent():
    tracker = {"events": [
        {"event": "user", "text": "/human_handoff", "metadata": {"whatsapp": {"kind": "button_reply", "text": "Hablar con alguien"}}},
        {"event": "user", "text": '/media_received{"media_kind":"image"}', "metadata": {"whatsapp": {"kind": "image", "text": "mi ticket"}}},
        {"event": "user", "text": "/shared_location", "metadata": {"whatsapp": {"kind": "location"}}},
    ]}
    assert [m.text for m in messages_from_tracker(tracker)] == ["Hablar con alguien", "[image] mi ticket", "[location]"]


def test_orders_edits_deletions_and_events_are_laid_over_the_history():
    from bot import customer_events as ce

    order = {"catalog_id": "1", "text": "", "items": [
        {"product_retailer_id": "di9ozbzfi4", "quantity": 2, "item_price": 30, "currency": "USD"}]}
    tracker = {"events": [
        {"event": "user", "text": "talla 26", "message_id": "wamid.A", "timestamp": 10},
        {"event": "user", "text": "perdón", "message_id": "wamid.B", "timestamp": 20},
        {"event": "user", "text": "/order_received", "message_id": "wamid.C", "timestamp": 30,
         "metadata": {"whatsapp": {"kind": "order", "order": order}}},
    ]}
    events = [ce.CustomerEvent(id="e1", kind=ce.EDIT, at=12, target="wamid.A", text="talla 27"),
              ce.CustomerEvent(id="e2", kind=ce.REVOKE, at=25, target="wamid.B"),
              ce.CustomerEvent(id="e3", kind=ce.CALL_PERMISSION, at=15, value="accept")]
    msgs = messages_from_tracker(tracker, events=events)
    assert [(m.kind, m.text) for m in msgs] == [
        ("customer", "talla 27"), ("system", "Customer allowed calls"), ("customer", "perdón"), ("customer", "")]
    assert msgs[0].edited and msgs[0].original_text == "talla 26" and not msgs[0].deleted
    assert msgs[2].deleted and not msgs[2].edited
    assert msgs[3].order.total_text == "USD 60.00" and msgs[3].wamid == "wamid.C"
