"""Agents sign in offline; the desk says so, what it means, and offers the switch."""
from __future__ import annotations

from ..conftest import cpath

NOTICE = 'id="offline-notice"'


def test_an_offline_agent_sees_the_notice_until_they_switch_online(client_for, assigned, handoff):
    conv = assigned("luis")
    handoff.set_online("luis", False)
    ana = client_for("ana")
    page = ana.get("/").get_data(as_text=True)  # where signing in lands
    notice = page[page.index(NOTICE):page.index("</div>", page.index(NOTICE))]
    assert "You are offline." in notice and " hidden" not in notice.split(">")[0]
    assert "Colleagues cannot transfer chats to you" in notice and "2m offline" in notice
    assert 'name="online" value="1"' in notice and "Switch Online" in notice
    # A lead on the same chat page sees it too: leads take chats as well.
    assert NOTICE in client_for("lucia").get(cpath(conv)).get_data(as_text=True)

    # The notice's own form (without JS) switches them online.
    assert ana.post("/agent/status", data={"online": "1", "csrf_token": ana.csrf}).status_code == 303
    page = ana.get("/").get_data(as_text=True)
    # Still on the page, hidden, so console.js can show it again when the switch goes off.
    assert f'{NOTICE} role="status" hidden>' in page
    # Not on pages away from the desk.
    canned = ana.get("/canned/")
    assert canned.status_code == 200 and NOTICE not in canned.get_data(as_text=True)
