"""Customer-controlled text is always inert: names, messages, last-message previews, notes."""
from __future__ import annotations

from .conftest import cpath

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_customer_text_is_escaped_everywhere(client_for, handoff, window, clock, fake_rasa):
    conv = "5215500000001"
    window.record_inbound(conv, clock.now())
    fake_rasa.add(conv, {"event": "user", "text": PAYLOAD},
                  {"event": "bot", "text": "Elige", "data": {"buttons": [{"title": PAYLOAD, "payload": "/x"}]}})
    handoff.request(conv, reason="r", language="es", name=PAYLOAD, last_message=PAYLOAD)
    ana = client_for("ana")
    for path in ("/", "/queue/partial"):
        page = ana.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert" in page
    assert handoff.claim(conv, "ana")
    ana.post(f"{cpath(conv)}/notes", data={"text": PAYLOAD, "csrf_token": ana.csrf})
    for path in (cpath(conv), f"{cpath(conv)}/history"):
        page = ana.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert" in page


def test_whatsapp_formatting_renders_in_the_history_and_a_payload_inside_it_stays_inert(
        client_for, handoff, window, clock, fake_rasa):
    conv = "5215500000002"
    window.record_inbound(conv, clock.now())
    fake_rasa.add(conv, {"event": "user", "text": f"*urgente* {PAYLOAD}"},
                  {"event": "bot", "text": "Escribe *menú* para volver"})
    handoff.request(conv, reason="r", language="es", name="María", last_message="urgente")
    assert handoff.claim(conv, "ana")
    page = client_for("ana").get(f"{cpath(conv)}/history").get_data(as_text=True)
    assert "<strong>urgente</strong> &lt;script&gt;alert" in page and "<script>alert" not in page
    assert "Escribe <strong>menú</strong> para volver" in page and "*menú*" not in page
