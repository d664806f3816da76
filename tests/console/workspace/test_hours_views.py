"""The hours page through Flask's test client: leads only, preview of unsaved hours, save, conflict."""
from __future__ import annotations

import html
import re

from bot.hours import BusinessHours

BASE_RE = re.compile(r'name="base" value="([^"]+)"')


def page_form(client) -> dict:
    """What the page's form would post as it stands."""
    page = client.get("/workspace/hours/").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)" value="([^"]*)"', page))
    return {name: html.unescape(value) for name, value in fields.items()} | {"preview-language": "es"}


def save(lead, **changes):
    """Post the page's form as it stands, with ``changes`` (day-monday="…"), to be saved."""
    data = page_form(lead) | {name.replace("_", "-"): value for name, value in changes.items()}
    return lead.post("/workspace/hours/", data=data | {"action": "save", "csrf_token": lead.csrf})


def test_agents_cannot_open_the_hours_page(client_for):
    assert client_for("ana").get("/workspace/hours/").status_code == 403


def test_the_page_shows_the_file_and_the_clock_moment(client_for):
    page = client_for("lucia").get("/workspace/hours/").get_data(as_text=True)
    assert 'name="day-friday" value="10:00-14:00, 16:00-20:00, 22:00-02:00"' in page
    assert 'value="Nochebuena"' in page
    # The console's FixedClock (2026-01-05 12:00 UTC) in the business zone.
    assert 'name="preview-date" value="2026-01-05"' in page and 'name="preview-time" value="06:00"' in page


def test_preview_answers_for_the_unsaved_edit_and_saves_nothing(client_for, hours_path):
    lead = client_for("lucia")
    before = hours_path.read_text()
    data = page_form(lead)
    # Sunday opened in the edit only; Sunday 2026-12-06 12:00 Mexico City.
    data.update({"day-sunday": "11:00-15:00", "preview-date": "2026-12-06", "preview-time": "12:00",
                 "action": "preview", "csrf_token": lead.csrf})
    page = html.unescape(lead.post("/workspace/hours/", data=data).get_data(as_text=True))
    assert "En este momento estamos *abiertos* ✅ hasta las 15:00 (hora CDMX)." in page
    assert "• Domingo: 11:00–15:00" in page
    assert "Open: no after-hours notice." in page
    assert hours_path.read_text() == before

    data.update({"preview-time": "16:00", "preview-language": "en"})
    page = html.unescape(lead.post("/workspace/hours/", data=data).get_data(as_text=True))
    assert "Right now we are *closed*. Our team is back tomorrow at 10:00 AM." in page
    assert "🌙 We're outside business hours. Our team is back tomorrow at 10:00 AM." in page
    assert "We're out of the office right now 🌙. Our team is back tomorrow at 10:00 AM." in page


def test_an_invalid_save_shows_the_error_by_its_field_and_writes_nothing(client_for, hours_path):
    lead = client_for("lucia")
    before = hours_path.read_text()
    response = save(lead, day_monday="10:00-14:00, 13:00-15:00")
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert re.search(r'data-field="day-monday">[^<]*overlap', page)
    assert hours_path.read_text() == before


def test_a_save_writes_only_the_edit_and_the_bot_reads_it(client_for, hours_path):
    lead = client_for("lucia")
    before = hours_path.read_text()
    assert save(lead, day_saturday="10:00-16:00").status_code == 303
    assert hours_path.read_text() == before.replace('saturday:  ["10:00-15:00"]', 'saturday:  ["10:00-16:00"]')
    assert str(BusinessHours.from_file(hours_path).weekly[5][0]) == "10:00-16:00"
    assert "Business hours saved by lucia" in lead.get("/workspace/hours/").get_data(as_text=True)


def test_a_stale_save_is_refused_with_both_versions(client_for, hours_path):
    first, second = client_for("lucia"), client_for("lucia")
    mine, theirs = page_form(first), page_form(second)
    theirs.update({"day-saturday": "10:00-16:00", "action": "save", "csrf_token": second.csrf})
    assert second.post("/workspace/hours/", data=theirs).status_code == 303
    after_theirs = hours_path.read_text()

    mine.update({"day-sunday": "11:00-15:00", "action": "save", "csrf_token": first.csrf})
    response = first.post("/workspace/hours/", data=mine)
    assert response.status_code == 409
    assert hours_path.read_text() == after_theirs
    page = html.unescape(response.get_data(as_text=True))
    assert "Someone else saved the hours" in page
    assert '+  sunday:    ["11:00-15:00"]' in page
    # The form now holds theirs plus mine, at their version: saving it again goes through.
    assert 'name="day-saturday" value="10:00-16:00"' in page and 'name="day-sunday" value="11:00-15:00"' in page
    retry = dict(mine, base=BASE_RE.search(page).group(1), **{"day-saturday": "10:00-16:00"})
    assert first.post("/workspace/hours/", data=retry).status_code == 303
    assert 'saturday:  ["10:00-16:00"]' in hours_path.read_text() and 'sunday:    ["11:00-15:00"]' in hours_path.read_text()


def test_a_hand_broken_file_is_explained_not_a_crash(client_for, hours_path):
    hours_path.write_text(hours_path.read_text().replace('saturday:  ["10:00-15:00"]', 'saturday:  ["10:00-35:00"]'))
    response = client_for("lucia").get("/workspace/hours/")
    assert response.status_code == 500
    assert "bad time 35:00" in html.unescape(response.get_data(as_text=True))


def test_saving_the_hours_syncs_the_whatsapp_profile_and_a_failure_stays_shown(client_for, app, hours_path,
                                                                               redis_client, clock):
    import dataclasses

    from bot.profile.sync import ProfileSync
    from connector.cloudapi.profile import ProfileClient
    from tests.emulator.in_process import in_process_graph

    services = app.extensions["console"]
    lead = client_for("lucia")
    with in_process_graph() as graph:
        def sync_with(target):
            return ProfileSync(redis_client, ProfileClient(target, graph.client), hours_file=hours_path, clock=clock)

        services.profile = sync_with(dataclasses.replace(graph.target, access_token="revoked"))
        assert save(lead, day_saturday="10:00-16:00").status_code == 303
        page = html.unescape(lead.get("/workspace/hours/").get_data(as_text=True))
        assert "WhatsApp profile not updated: Invalid OAuth access token - Cannot parse access token [code 190]" in page
        assert 'data-state="out-of-date"' in page and "Last sync failed" in page
        assert graph.emulator.profile == {}

        services.profile = sync_with(graph.target)
        assert lead.get("/workspace/hours/").get_data(as_text=True).count('data-state="out-of-date"') == 1
        assert lead.post("/workspace/hours/profile", data={"csrf_token": lead.csrf}).status_code == 303
        page = html.unescape(lead.get("/workspace/hours/").get_data(as_text=True))
        assert 'data-state="up-to-date"' in page and "Last sync failed" not in page
        assert "• Sábado: 10:00–16:00" in graph.emulator.profile["description"]

        assert save(lead, day_saturday="10:00-13:00").status_code == 303
        assert "• Sábado: 10:00–13:00" in graph.emulator.profile["description"]
        assert 'data-state="up-to-date"' in lead.get("/workspace/hours/").get_data(as_text=True)
    agent = client_for("ana")
    assert agent.post("/workspace/hours/profile", data={"csrf_token": agent.csrf}).status_code == 403
