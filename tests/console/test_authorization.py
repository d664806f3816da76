"""Only the assigned agent (or a lead) acts on a chat; agents see but cannot touch others' chats."""
from __future__ import annotations

from .conftest import cpath

import pytest


@pytest.mark.parametrize("action,data", [
    ("reply", {"text": "hola"}),
    ("resolve", {}),
    ("transfer", {"to": ""}),
    ("notes", {"text": "nota"}),
    ("template", {"template": "hello_world:en_US"}),
])
def test_other_agent_gets_403(client_for, assigned, fake_rasa, handoff, action, data):
    conv = assigned("ana")
    luis = client_for("luis")
    response = luis.post(f"{cpath(conv)}/{action}", data={**data, "csrf_token": luis.csrf})
    assert response.status_code == 403
    assert "assigned to ana" in response.get_data(as_text=True)
    assert fake_rasa.posts() == []
    assert handoff.state(conv).agent == "ana"


def test_queued_chat_cannot_be_answered_before_claiming(client_for, queued, fake_rasa):
    conv = queued()
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/reply", data={"text": "hola", "csrf_token": ana.csrf})
    assert response.status_code == 403
    assert fake_rasa.posts() == []


def test_other_agent_sees_read_only_view(client_for, assigned):
    conv = assigned("ana")
    page = client_for("luis").get(cpath(conv)).get_data(as_text=True)
    assert "assigned to ana" in page
    assert 'id="reply-form"' not in page and 'id="resolve-form"' not in page


def test_lead_can_act_on_any_chat(client_for, assigned, fake_rasa, handoff):
    conv = assigned("ana")
    lucia = client_for("lucia")
    response = lucia.post(f"{cpath(conv)}/reply", data={"text": "Soy la supervisora", "csrf_token": lucia.csrf})
    assert response.status_code == 303
    assert fake_rasa.posts(conv)[0].body[0]["metadata"] == {"agent": "lucia"}
    response = lucia.post(f"{cpath(conv)}/transfer", data={"to": "", "csrf_token": lucia.csrf})
    assert response.status_code == 303
    assert handoff.state(conv).state == "queued"


def test_only_leads_manage_canned_replies(client_for):
    ana, lucia = client_for("ana"), client_for("lucia")
    data = {"language": "es", "title": "Horario", "text": "Abrimos de 10 a 20 h."}
    assert ana.post("/canned/", data={**data, "csrf_token": ana.csrf}).status_code == 403
    assert lucia.post("/canned/", data={**data, "csrf_token": lucia.csrf}).status_code == 303
    assert "Abrimos de 10 a 20 h." in ana.get("/canned/").get_data(as_text=True)


def test_transfer_to_an_online_agent(client_for, assigned, handoff):
    conv = assigned("ana")
    handoff.set_online("luis", True)
    ana = client_for("ana")
    page = ana.get(cpath(conv)).get_data(as_text=True)
    assert '<option value="luis">luis (online)</option>' in page
    response = ana.post(f"{cpath(conv)}/transfer", data={"to": "luis", "csrf_token": ana.csrf})
    assert response.status_code == 303
    assert handoff.state(conv).agent == "luis"
    # Now ana is the outsider.
    assert ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf}).status_code == 403


def test_transfer_to_an_offline_agent_is_refused(client_for, assigned, handoff):
    conv = assigned("ana")
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/transfer", data={"to": "luis", "csrf_token": ana.csrf})
    assert response.status_code == 409
    assert "luis is not online" in response.get_data(as_text=True)
    assert handoff.state(conv).agent == "ana"
