"""Actions on one conversation: resolve (resume + closing message), notes, transfer."""
from __future__ import annotations

from bot import csat
from console.config import DEFAULT_CLOSING_EN, DEFAULT_CLOSING_ES

from ..conftest import cpath


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
        csat.question("es"),  # the satisfaction question, last
    ]
    assert "Resolved" in ana.get("/").get_data(as_text=True)


def test_closing_message_follows_the_customer_language(client_for, assigned, fake_rasa):
    conv = assigned("ana", conv="15550001111", language="en", name="John")
    ana = client_for("ana")
    ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf})
    closing, survey = fake_rasa.posts(conv)[0].body[-2:]
    assert closing["text"] == DEFAULT_CLOSING_EN and survey == csat.question("en")


def test_closing_message_is_configurable(redis_client, clock, fake_rasa, users, assigned):
    from console import create_app

    from ..conftest import csrf_token, login

    app = create_app({"REDIS": redis_client, "CLOCK": clock, "RASA_URL": fake_rasa.url,
                      "RASA_TOKEN": fake_rasa.token, "SECRET_KEY": "s",
                      "CLOSING_MESSAGE": {"es": "¡Hasta pronto!", "en": "Bye!"}})
    conv = assigned("ana")
    client = app.test_client()
    login(client, "ana")
    client.post(f"{cpath(conv)}/resolve", data={"csrf_token": csrf_token(client, "/")})
    assert fake_rasa.posts(conv)[0].body[-2]["text"] == "¡Hasta pronto!"


def test_no_free_form_goodbye_outside_the_window(client_for, assigned, fake_rasa, clock, handoff, redis_client):
    conv = assigned("ana")
    clock.advance(hours=26)
    handoff.heartbeat("ana")
    ana = client_for("ana")
    ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf})
    # No goodbye and no satisfaction question: WhatsApp would refuse both.
    assert fake_rasa.posts(conv)[0].body == [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    assert csat.Csat(redis_client).answer(conv, "good") is False  # nothing asked


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


def test_notes_are_kept_per_conversation(client_for, assigned):
    conv = assigned("ana")
    ana = client_for("ana")
    ana.post(f"{cpath(conv)}/notes", data={"text": "Pidió talla 25", "csrf_token": ana.csrf})
    page = ana.get(cpath(conv)).get_data(as_text=True)
    assert "Pidió talla 25" in page
    assert "Pidió talla 25" in client_for("luis").get(cpath(conv)).get_data(as_text=True)
    assert ana.post(f"{cpath(conv)}/notes", data={"text": "  ", "csrf_token": ana.csrf}).status_code == 400


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
