"""The supervisor page: every open chat with its agent and wait, agents' presence and load, and a
lead reassigning a chat to an online agent or back to the queue."""
from __future__ import annotations

import re

from ..conftest import cpath

OTHER = "5215598765432"


def _row(page: str, marker: str) -> str:
    """The table row holding `marker`."""
    for row in re.findall(r"<tr\b.*?</tr>", page, re.S):
        if marker in row:
            return row
    raise AssertionError(f"no row with {marker!r}")


def test_lead_moves_a_chat_from_one_agent_to_another_and_back_to_the_queue(client_for, assigned, handoff):
    conv = assigned("ana")
    handoff.set_online("luis", True)
    lucia = client_for("lucia")
    page = lucia.get("/supervisor/").get_data(as_text=True)
    assert "ana" in _row(page, "María López") and '<option value="luis">luis</option>' in page

    response = lucia.post(f"/supervisor/reassign{cpath(conv)[2:]}", data={"to": "luis", "csrf_token": lucia.csrf})
    assert response.status_code == 303
    chat = handoff.state(conv)
    assert (chat.agent, chat.previous_agent) == ("luis", "ana")
    assert "Moved María López from ana to luis." in lucia.get("/supervisor/").get_data(as_text=True)

    response = lucia.post(f"/supervisor/reassign{cpath(conv)[2:]}", data={"to": "@queue", "csrf_token": lucia.csrf},
                          headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json()["ok"]
    assert handoff.state(conv).state == "queued"
    assert handoff.state(conv).previous_agent == "luis"
    entries = lucia.get("/team/").get_data(as_text=True)
    assert "ana → luis" in entries and "luis → the queue" in entries


def test_lead_gives_a_waiting_chat_to_an_online_agent(client_for, queued, handoff):
    conv = queued()
    lucia = client_for("lucia")
    url = f"/supervisor/reassign{cpath(conv)[2:]}"
    response = lucia.post(url, data={"to": "luis"}, headers={"Accept": "application/json", "X-CSRFToken": lucia.csrf})
    assert response.status_code == 409 and "not online" in response.get_json()["error"]
    response = lucia.post(url, data={"to": "@queue"}, headers={"Accept": "application/json", "X-CSRFToken": lucia.csrf})
    assert response.status_code == 409 and handoff.state(conv).state == "queued"
    handoff.set_online("luis", True)
    response = lucia.post(url, data={"to": "luis", "csrf_token": lucia.csrf})
    assert response.status_code == 303 and handoff.state(conv).agent == "luis"
    assert "Moved María López from the queue to luis." in lucia.get("/supervisor/").get_data(as_text=True)


def test_refused_reassigns_move_nothing(client_for, assigned, handoff, clock):
    conv = assigned("ana")
    lucia = client_for("lucia")
    url = f"/supervisor/reassign{cpath(conv)[2:]}"
    json = {"Accept": "application/json", "X-CSRFToken": lucia.csrf}
    # No choice: the page refreshes its tables live, and a form that lost the lead's choice must
    # not fall back to the queue (the browser test caught exactly that).
    response = lucia.post(url, data={"to": ""}, headers=json)
    assert response.status_code == 400 and "Pick an online agent or the queue" in response.get_json()["error"]
    # An offline agent: the page form lands back on the page with the reason.
    response = lucia.post(url, data={"to": "luis", "csrf_token": lucia.csrf})
    assert response.status_code == 303
    assert "that agent is not online" in lucia.get("/supervisor/").get_data(as_text=True)
    # Online by the switch but silent past the agent timeout counts as offline too.
    handoff.set_online("luis", True)
    clock.advance(seconds=handoff.agent_timeout_seconds + 1)
    handoff.heartbeat("ana")
    response = lucia.post(url, data={"to": "luis"}, headers=json)
    assert response.status_code == 409 and "not online" in response.get_json()["error"]
    # No CSRF token, to an agent who is online.
    handoff.heartbeat("luis")
    assert lucia.post(url, data={"to": "luis"}).status_code == 400
    assert handoff.state(conv).agent == "ana"


def test_an_agent_gets_403_on_every_supervisor_endpoint(client_for, assigned, handoff):
    conv = assigned("ana")
    handoff.set_online("luis", True)
    ana = client_for("ana")
    assert ana.get("/supervisor/").status_code == 403
    assert ana.get("/supervisor/partial").status_code == 403
    response = ana.post(f"/supervisor/reassign{cpath(conv)[2:]}", data={"to": "luis", "csrf_token": ana.csrf})
    assert response.status_code == 403
    assert handoff.state(conv).agent == "ana"
    assert "/supervisor/" not in ana.get("/").get_data(as_text=True)  # no Team link either


def test_open_chats_show_agent_waiting_time_last_message_and_window(client_for, assigned, queued, clock, window):
    conv = assigned("ana")
    clock.advance(minutes=5)
    queued(conv=OTHER, name="Pedro Ruiz")
    clock.advance(minutes=2)
    lucia = client_for("lucia")
    page = lucia.get("/supervisor/partial").get_data(as_text=True)
    mine, waiting = _row(page, "María López"), _row(page, "Pedro Ruiz")
    # Waiting: since assigned for the held chat, since queued for the waiting one.
    assert "assigned" in mine and ">7m" in mine and "7m ago" in mine
    assert "waiting" in waiting and ">2m" in waiting and "2m ago" in waiting
    assert ">Reassign</button>" in mine and "@queue" in mine
    assert ">Assign</button>" in waiting and "@queue" not in waiting  # it is in the queue already
    # The window's time left for free-form replies (24 h minus the margin, from the last message).
    left = window.status(conv).closes_at - window.margin - clock.now()
    from console.formatting import duration
    assert f"{duration(left)} left" in mine
    assert f'href="{cpath(conv)}"' in mine


def test_presence_and_load_per_agent(client_for, assigned, queued, handoff, clock):
    assigned("ana")
    assigned("ana", conv=OTHER, name="Pedro Ruiz")
    handoff.set_online("luis", True)
    clock.advance(minutes=3)
    lucia = client_for("lucia")
    page = lucia.get("/supervisor/partial").get_data(as_text=True)
    ana, luis = _row(page, 'data-agent="ana"'), _row(page, 'data-agent="luis"')
    # ana claimed 3 minutes ago and sent nothing since: past the 2-minute timeout she is away.
    assert "away" in ana and "3m ago" in ana and '<td class="sv-load">2</td>' in ana
    assert "away" in luis and '<td class="sv-load">0</td>' in luis
    # lucia's own page load sent no heartbeat (console.js does that): she was never seen.
    assert "offline" in _row(page, 'data-agent="lucia"') and "never" in _row(page, 'data-agent="lucia"')
    handoff.heartbeat("ana")
    page = lucia.get("/supervisor/partial").get_data(as_text=True)
    assert "sv-online" in _row(page, 'data-agent="ana"')
