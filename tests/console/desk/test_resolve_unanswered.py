"""Resolve warns when the customer's last message has no answer; the agent can still resolve."""
from __future__ import annotations

from ..conftest import cpath


def test_resolving_an_unanswered_chat_answers_409_with_the_message_and_a_confirm_button(
        client_for, assigned, fake_rasa, handoff):
    conv = assigned("ana")
    fake_rasa.add(conv, {"event": "user", "text": "¿Y cuándo llega mi pedido?"})
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "no answer yet" in page and "¿Y cuándo llega mi pedido?" in page
    assert 'name="confirm" value="1"' in page and 'id="resolve-confirm"' in page
    assert handoff.state(conv).state == "assigned" and fake_rasa.posts(conv) == []

    confirmed = ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf, "confirm": "1"})
    assert confirmed.status_code == 303 and handoff.state(conv).state == "bot"


def test_json_callers_get_the_same_warning(client_for, assigned, fake_rasa, handoff):
    conv = assigned("ana")
    fake_rasa.add(conv, {"event": "user", "text": "¿Sigues ahí?"})
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf},
                        headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.json["unanswered"] == "¿Sigues ahí?" and response.json["confirm"] == {"confirm": "1"}
    assert handoff.state(conv).state == "assigned"


def test_an_answered_chat_resolves_without_a_warning(client_for, assigned, fake_rasa, handoff):
    conv = assigned("ana")
    fake_rasa.add(conv, {"event": "user", "text": "Gracias"},
                  {"event": "bot", "text": "¡A ti!", "metadata": {"agent": "ana"}})
    ana = client_for("ana")
    assert ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf}).status_code == 303
    assert handoff.state(conv).state == "bot"


def test_the_history_marks_the_unanswered_message_for_the_page_script(client_for, assigned, fake_rasa):
    conv = assigned("ana")
    ana = client_for("ana")
    assert 'id="unanswered"' not in ana.get(f"{cpath(conv)}/history").get_data(as_text=True)
    fake_rasa.add(conv, {"event": "user", "text": "Hola <b>otra</b> vez"})
    history = ana.get(f"{cpath(conv)}/history").get_data(as_text=True)
    assert 'id="unanswered" hidden data-text="Hola &lt;b&gt;otra&lt;/b&gt; vez"' in history
