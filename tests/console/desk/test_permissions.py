"""Only the assigned agent (or a lead) acts on a chat; agents see but cannot touch others' chats."""
from __future__ import annotations

import pytest

from ..conftest import cpath


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
