"""Resolving hands the chat back to the bot: handoff state, resume event, closing message."""
from __future__ import annotations

import time

from console.config import DEFAULT_CLOSING_EN, DEFAULT_CLOSING_ES

from .conftest import cpath


def test_resolve_resumes_the_bot_with_a_closing_message(client_for, assigned, fake_rasa, handoff):
    conv = assigned("ana")
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert handoff.state(conv).state == "bot"
    [post] = fake_rasa.posts(conv)
    assert post.query["execute_side_effects"] == "true" and post.query["output_channel"] == "whatsapp"
    assert post.query["token"] == fake_rasa.token
    assert post.body == [
        {"event": "resume"},
        {"event": "action", "name": "action_listen"},
        {"event": "bot", "text": DEFAULT_CLOSING_ES, "metadata": {"agent": "ana", "closing": True}},
    ]
    assert "Resolved" in ana.get("/").get_data(as_text=True)


def test_closing_message_follows_the_customer_language(client_for, assigned, fake_rasa):
    conv = assigned("ana", conv="15550001111", language="en", name="John")
    ana = client_for("ana")
    ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf})
    assert fake_rasa.posts(conv)[0].body[-1]["text"] == DEFAULT_CLOSING_EN


def test_closing_message_is_configurable(redis_client, clock, fake_rasa, users, assigned):
    from console import create_app

    from .conftest import csrf_token, login

    app = create_app({"REDIS": redis_client, "CLOCK": clock, "RASA_URL": fake_rasa.url,
                      "RASA_TOKEN": fake_rasa.token, "SECRET_KEY": "s",
                      "CLOSING_MESSAGE": {"es": "¡Hasta pronto!", "en": "Bye!"}})
    conv = assigned("ana")
    client = app.test_client()
    login(client, "ana")
    client.post(f"{cpath(conv)}/resolve", data={"csrf_token": csrf_token(client, "/")})
    assert fake_rasa.posts(conv)[0].body[-1]["text"] == "¡Hasta pronto!"


def test_no_free_form_goodbye_outside_the_window(client_for, assigned, fake_rasa, clock, handoff):
    conv = assigned("ana")
    clock.advance(hours=26)
    handoff.heartbeat("ana")
    ana = client_for("ana")
    ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf})
    assert fake_rasa.posts(conv)[0].body == [{"event": "resume"}, {"event": "action", "name": "action_listen"}]


def test_resolve_reports_rasa_failure(client_for, assigned, fake_rasa, handoff):
    conv = assigned("ana")
    fake_rasa.fail_posts = True
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf}, follow_redirects=True)
    assert "the bot could not be resumed" in response.get_data(as_text=True)


def test_resolve_keeps_the_chat_when_rasa_cannot_resume_the_bot(client_for, assigned, fake_rasa, handoff):
    """Marking the chat resolved before Rasa un-pauses the tracker leaves, on any Rasa error, a
    chat nobody holds with a bot that stays silent for good; the agent could not even retry."""
    conv = assigned("ana")
    fake_rasa.fail_posts = True
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf},
                        headers={"Accept": "application/json"})
    assert response.status_code == 502 and response.json["ok"] is False
    record = handoff.state(conv)
    assert (record.state, record.agent) == ("assigned", "ana")
    fake_rasa.fail_posts = False
    assert ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf}).status_code == 303
    assert handoff.state(conv).state == "bot"
    assert [p.body[0] for p in fake_rasa.posts(conv)] == [{"event": "resume"}, {"event": "resume"}]


def test_claim_race_has_one_winner(client_for, queued, handoff):
    conv = queued()
    ana, luis = client_for("ana"), client_for("luis")
    first = ana.post("/claim/" + cpath(conv)[3:], data={"csrf_token": ana.csrf})
    second = luis.post("/claim/" + cpath(conv)[3:], data={"csrf_token": luis.csrf}, headers={"Accept": "application/json"})
    assert first.status_code == 302 and first.headers["Location"] == cpath(conv)
    assert second.status_code == 409 and second.json["error"] == "Already taken by ana."
    assert handoff.state(conv).agent == "ana"
    page = luis.post("/claim/" + cpath(conv)[3:], data={"csrf_token": luis.csrf}, follow_redirects=True)
    assert "Already taken by ana." in page.get_data(as_text=True)


def test_notes_are_kept_per_conversation(client_for, assigned):
    conv = assigned("ana")
    ana = client_for("ana")
    ana.post(f"{cpath(conv)}/notes", data={"text": "Pidió talla 25", "csrf_token": ana.csrf})
    page = ana.get(cpath(conv)).get_data(as_text=True)
    assert "Pidió talla 25" in page
    assert "Pidió talla 25" in client_for("luis").get(cpath(conv)).get_data(as_text=True)
    assert ana.post(f"{cpath(conv)}/notes", data={"text": "  ", "csrf_token": ana.csrf}).status_code == 400


def test_presence_and_heartbeat(client_for, handoff):
    ana = client_for("ana")
    headers = {"X-CSRFToken": ana.csrf, "Accept": "application/json"}
    assert ana.post("/agent/status", data={"online": "1"}, headers=headers).json == {"ok": True, "online": True}
    assert handoff.is_online("ana")
    assert ana.post("/agent/heartbeat", headers=headers).status_code == 200
    assert 'id="online-toggle"' in ana.get("/").get_data(as_text=True)
    ana.post("/agent/status", data={"online": "0"}, headers=headers)
    assert not handoff.is_online("ana")


def test_background_janitor_requeues_abandoned_chats(redis_client, clock, fake_rasa, users, queued):
    from bot.handoff import Handoff
    from console import create_app

    handoff = Handoff(redis_client, clock, agent_timeout_seconds=60)
    app = create_app({"REDIS": redis_client, "CLOCK": clock, "HANDOFF": handoff, "RASA_URL": fake_rasa.url,
                      "SECRET_KEY": "s", "START_JANITOR": True, "REQUEUE_INTERVAL_SECONDS": 0.05})
    try:
        conv = queued()
        assert handoff.claim(conv, "ana")
        clock.advance(seconds=61)  # ana's tab stopped sending heartbeats
        deadline = time.monotonic() + 5
        while handoff.state(conv).state != "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handoff.state(conv).state == "queued"
    finally:
        app.extensions["console_janitor"].stop()
