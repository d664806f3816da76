"""Users managed by leads in the console: create, disable (sessions end, no sign-in, chats back
to the queue), re-enable, reset a password, change a role; at least one active lead always
remains; agents get 403 everywhere and every form needs its CSRF token."""
from __future__ import annotations

import pytest

from console.auth.users import LastLead

from ..conftest import login

NEW_PASSWORD = "a-brand-new-pass-9"


def test_lead_creates_an_agent_with_a_password_and_a_lead_with_a_generated_one(client_for, app):
    lucia = client_for("lucia")
    response = lucia.post("/team/users", data={"name": "Marta", "role": "agent", "password": NEW_PASSWORD,
                                               "csrf_token": lucia.csrf})
    assert response.status_code == 303
    response = lucia.post("/team/users", data={"name": "pablo", "role": "lead", "password": "",
                                               "csrf_token": lucia.csrf})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Shown once" in page
    generated = page.split('id="shown-password">')[1].split("<")[0]
    assert login(app.test_client(), "marta", NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), "pablo", generated).status_code == 302
    page = lucia.get("/team/").get_data(as_text=True)
    assert 'data-user="marta"' in page and 'data-user="pablo"' in page
    assert page.count(">create<") == 2  # the audit log: who created whom
    # A name taken, or a password under the rules, is refused with the reason.
    response = lucia.post("/team/users", data={"name": "ana", "role": "agent", "password": NEW_PASSWORD,
                                               "csrf_token": lucia.csrf})
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)
    response = lucia.post("/team/users", data={"name": "eva", "role": "agent", "password": "short",
                                               "csrf_token": lucia.csrf})
    assert response.status_code == 400 and "at least 10 characters" in response.get_data(as_text=True)


def test_disabling_ends_sessions_refuses_sign_in_and_requeues_the_chats(client_for, assigned, handoff, app):
    conv = assigned("ana")
    ana, lucia = client_for("ana"), client_for("lucia")
    response = lucia.post("/team/users/ana/disable", data={"csrf_token": lucia.csrf})
    assert response.status_code == 303
    assert "1 chat back to the queue" in lucia.get("/team/").get_data(as_text=True)
    chat = handoff.state(conv)
    assert (chat.state, chat.previous_agent) == ("queued", "ana")
    assert not handoff.presence()["ana"].said_online
    assert ana.get("/").status_code == 302  # her open session is over
    response = login(app.test_client(), "ana")
    assert response.status_code == 403 and "disabled" in response.get_data(as_text=True)

    assert lucia.post("/team/users/ana/enable", data={"csrf_token": lucia.csrf}).status_code == 303
    assert login(app.test_client(), "ana").status_code == 302
    # The session ended by disabling stays ended: re-enabling does not revive old cookies.
    assert ana.get("/").status_code == 302


def test_reset_password_refuses_the_old_one_and_ends_sessions(client_for, app):
    ana, lucia = client_for("ana"), client_for("lucia")
    response = lucia.post("/team/users/ana/password", data={"password": NEW_PASSWORD, "csrf_token": lucia.csrf})
    assert response.status_code == 303
    assert ana.get("/").status_code == 302
    assert login(app.test_client(), "ana").status_code == 401
    assert login(app.test_client(), "ana", NEW_PASSWORD).status_code == 302
    assert ">reset password<" in lucia.get("/team/").get_data(as_text=True)


def test_the_last_active_lead_cannot_be_demoted_or_disabled(client_for, users):
    lucia = client_for("lucia")
    for action, data in (("role", {"role": "agent"}), ("disable", {})):
        response = lucia.post(f"/team/users/lucia/{action}", data={**data, "csrf_token": lucia.csrf})
        assert response.status_code == 409 and "last active lead" in response.get_data(as_text=True)
    assert users.get("lucia").is_lead and not users.get("lucia").disabled
    # A disabled lead does not count: promoting luis and disabling him leaves lucia the last one.
    users.update("luis", role="lead")
    users.update("luis", disabled=True)
    with pytest.raises(LastLead):
        users.update("lucia", role="agent")
    users.update("luis", disabled=False)
    assert users.update("lucia", role="agent").role == "agent"
    with pytest.raises(LastLead):
        users.update("luis", disabled=True)


ENDPOINTS = (("/team/users", {"name": "eve", "role": "lead", "password": NEW_PASSWORD}),
             ("/team/users/lucia/disable", {}), ("/team/users/lucia/enable", {}),
             ("/team/users/lucia/password", {"password": NEW_PASSWORD}),
             ("/team/users/luis/role", {"role": "lead"}))


def test_agents_get_403_everywhere_and_a_role_change_applies_to_the_open_session(client_for, users):
    luis, lucia = client_for("luis"), client_for("lucia")
    assert luis.get("/team/").status_code == 403
    for path, data in ENDPOINTS:
        assert luis.post(path, data={**data, "csrf_token": luis.csrf}).status_code == 403, path
    assert users.get("eve") is None and users.get("luis").role == "agent" and not users.get("lucia").disabled

    assert lucia.post("/team/users/luis/role", data={"role": "lead", "csrf_token": lucia.csrf}).status_code == 303
    assert luis.get("/team/").status_code == 200  # no new sign-in needed
    assert lucia.post("/team/users/luis/role", data={"role": "boss", "csrf_token": lucia.csrf}).status_code == 400
    assert lucia.post("/team/users/luis/role", data={"role": "agent", "csrf_token": lucia.csrf}).status_code == 303
    assert luis.get("/team/").status_code == 403
    assert lucia.get("/team/").get_data(as_text=True).count(">change role<") == 2


def test_every_user_form_needs_the_csrf_token_and_unknown_users_are_404(client_for, users):
    lucia = client_for("lucia")
    before = users.get("lucia")
    for path, data in ENDPOINTS:
        assert lucia.post(path, data=data).status_code == 400, path
    assert users.get("eve") is None and users.get("luis").role == "agent" and users.get("lucia") == before
    assert lucia.post("/team/users/nobody/disable", data={"csrf_token": lucia.csrf}).status_code == 404
