"""The leads' consent pages through Flask's test client: leads only, the contacts list, a
contact's state and history, recording from the console, CSV import (preview, then apply) and
export, and the link from the conversation page."""
from __future__ import annotations

import datetime as dt
import io
import re

from connector.policy.consent import MARKETING, OPTED_IN, OPTED_OUT, TRANSACTIONAL, ConsentRegister
from console.workspace import consent_views

from ..conftest import cpath

CUSTOMER = "5215512341234"
CSV = ("wa_id,purpose,state,source,at\n"
       "+52 1 55 1234 1234,marketing,opted_in,web_form,2026-01-01T10:00:00Z\n"
       "5215500000002,marketing,maybe,web_form,\n"
       "5215500000003,transactional,opted_in,,\n")


def register(app) -> ConsentRegister:
    return app.extensions["console"].consent


def contact_path(lead, wa_id: str) -> str:
    response = lead.post("/workspace/consent/find", data={"wa_id": wa_id, "csrf_token": lead.csrf})
    assert response.status_code == 303
    return response.headers["Location"]


def upload(lead, text: str | bytes, name: str = "optins.csv"):
    data = text.encode() if isinstance(text, str) else text
    return lead.post("/workspace/consent/import", data={"file": (io.BytesIO(data), name), "csrf_token": lead.csrf},
                     content_type="multipart/form-data")


def test_lookup_shows_each_purpose_and_the_full_history_and_records_a_change(client_for, app, clock):
    reg = register(app)
    reg.record(CUSTOMER, MARKETING, OPTED_IN, "web_form", at=clock.now() - dt.timedelta(days=2), by="form")
    reg.record(CUSTOMER, MARKETING, OPTED_OUT, "message", by="customer", ref="wamid.1")
    lead = client_for("lucia")
    path = contact_path(lead, "+52 1 55 1234 1234")
    assert CUSTOMER not in path  # the number stays out of URLs
    page = lead.get(path).get_data(as_text=True)
    assert "opted out · a message to the business" in page and "wamid.1" in page
    assert page.count("<tr") == 3  # header + two changes, newest first

    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
    form = {"purpose": MARKETING, "state": OPTED_IN, "nonce": nonce, "csrf_token": lead.csrf}
    assert lead.post(path, data=form).status_code == 303
    now = reg.status(CUSTOMER)[MARKETING]
    assert (now.state, now.source, now.by) == (OPTED_IN, "console", "lucia")
    # The same form sent twice is one change.
    lead.post(path, data=form)
    assert len(reg.history(CUSTOMER)) == 3
    # Posts without the form's nonce are each a change of their own.
    for state in (OPTED_OUT, OPTED_IN):
        lead.post(path, data={"purpose": MARKETING, "state": state, "csrf_token": lead.csrf})
    assert reg.status(CUSTOMER)[MARKETING].state == OPTED_IN and len(reg.history(CUSTOMER)) == 5


def test_import_previews_rejects_bad_rows_alone_then_applies_the_rest(client_for, app, monkeypatch):
    reg = register(app)
    lead = client_for("lucia")
    assert upload(lead, "wa_id,purpose\n\xff".encode("latin-1")).status_code == 422
    monkeypatch.setattr(consent_views, "MAX_UPLOAD_BYTES", len(CSV))
    assert upload(lead, CSV + "5215500000009,marketing,opted_in,,\n").status_code == 413
    response = upload(lead, CSV)
    assert response.status_code == 303
    preview_path = response.headers["Location"]
    page = lead.get(preview_path).get_data(as_text=True)
    assert "2 valid row(s), 2 would change" in page and "1 rejected row(s)" in page
    assert "unknown state &#39;maybe&#39;" in page and "5215500000002,marketing,maybe" in page
    assert list(reg.contacts()) == []  # a preview records nothing

    response = lead.post(preview_path, data={"csrf_token": lead.csrf})
    assert response.status_code == 303
    assert reg.status(CUSTOMER)[MARKETING].state == OPTED_IN
    assert reg.status("5215500000003")[TRANSACTIONAL].by == "lucia"
    flashed = lead.get("/workspace/consent/").get_data(as_text=True)
    assert "2 row(s) read, 2 now a contact&#39;s current state" in flashed and "1 rejected" in flashed
    # Applied once: the preview is gone.
    assert lead.post(preview_path, data={"csrf_token": lead.csrf}).status_code == 410


def test_contacts_are_listed_newest_change_first_in_pages_and_exported(client_for, app, clock, monkeypatch):
    reg = register(app)
    for n in range(3):
        reg.record(f"52155000000{n:02d}", MARKETING, OPTED_IN, "qr", at=clock.now() - dt.timedelta(hours=3 - n))
    monkeypatch.setattr(consent_views, "PAGE_SIZE", 2)
    lead = client_for("lucia")
    first = lead.get("/workspace/consent/").get_data(as_text=True)
    assert "3, newest change first" in first and "Page 1 of 2" in first
    assert first.index("**** 0002") < first.index("**** 0001") and "**** 0000" not in first
    assert "**** 0000" in lead.get("/workspace/consent/?page=2").get_data(as_text=True)

    response = lead.get("/workspace/consent/export.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).splitlines()[1:] == [
        f"52155000000{n:02d},marketing,opted_in,qr,{(clock.now() - dt.timedelta(hours=3 - n)).isoformat()},"
        for n in range(3)]


def test_the_conversation_page_links_leads_to_the_lookup_and_agents_are_refused(client_for, assigned):
    conv = assigned("ana")
    lead_page = client_for("lucia").get(cpath(conv)).get_data(as_text=True)
    link = re.search(r'href="([^"]+)" id="consent-lookup"', lead_page).group(1)
    assert client_for("lucia").get(link).status_code == 200
    agent = client_for("ana")
    assert 'id="consent-lookup"' not in agent.get(cpath(conv)).get_data(as_text=True)
    assert agent.get(link).status_code == 403
    assert agent.get("/workspace/consent/").status_code == 403
    assert agent.get("/workspace/consent/export.csv").status_code == 403
    assert upload(agent, CSV).status_code == 403

