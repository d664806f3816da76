"""The queue: one winner per claim, the agent's online switch and heartbeat."""
from __future__ import annotations

from ..conftest import cpath


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


def test_presence_and_heartbeat(client_for, handoff):
    ana = client_for("ana")
    headers = {"X-CSRFToken": ana.csrf, "Accept": "application/json"}
    assert ana.post("/agent/status", data={"online": "1"}, headers=headers).json == {"ok": True, "online": True}
    assert handoff.is_online("ana")
    assert ana.post("/agent/heartbeat", headers=headers).status_code == 200
    assert 'id="online-toggle"' in ana.get("/").get_data(as_text=True)
    ana.post("/agent/status", data={"online": "0"}, headers=headers)
    assert not handoff.is_online("ana")
