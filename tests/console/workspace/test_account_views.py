"""The WhatsApp account page: leads only; quality, account updates, tier use, throughput; Resume."""
from __future__ import annotations

import datetime as dt
import html

from connector.policy.quality import QualityRegister
from connector.policy.tier import MessagingTier

NOON = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)


def test_agents_cannot_open_or_resume(client_for, redis_client, clock):
    QualityRegister(redis_client, clock).record_quality("FLAGGED", at=NOON)
    agent = client_for("ana")
    assert agent.get("/workspace/account/").status_code == 403
    assert agent.post("/workspace/account/resume-marketing", data={"csrf_token": agent.csrf}).status_code == 403
    assert QualityRegister(redis_client, clock).marketing_pause() is not None


def test_the_page_shows_quality_account_tier_and_throughput(client_for, redis_client, clock, monkeypatch):
    monkeypatch.setenv("WHATSAPP_THROUGHPUT_MPS", "120")
    quality = QualityRegister(redis_client, clock)
    quality.record_quality("UPGRADE", at=NOON - dt.timedelta(hours=2), current_limit="TIER_2K")
    quality.record_account("ACCOUNT_VIOLATION", at=NOON - dt.timedelta(hours=1),
                           details={"violation_info": {"violation_type": "<b>SCAM</b>"}})
    MessagingTier(redis_client, clock).reserve("5215512341234")
    raw = client_for("lucia").get("/workspace/account/").get_data(as_text=True)
    assert "SCAM" in raw and "<b>SCAM</b>" not in raw  # Meta's text is shown, never as markup
    page = html.unescape(raw)
    assert 'id="tier-name">TIER_2K<' in page and "2,000 unique contacts per moving 24 h" in page
    assert 'id="tier-used">1 in the last 24 h<' in page
    assert 'id="throughput-mps">120 messages per second<' in page
    assert "<strong>UPGRADE</strong>" in page and 'data-state="sending"' in page
    assert "ACCOUNT_VIOLATION" in page and "violation_info:" in page


def test_a_lead_resumes_paused_marketing_with_the_csrf_token(client_for, redis_client, clock):
    QualityRegister(redis_client, clock).record_quality("FLAGGED", at=NOON - dt.timedelta(minutes=5))
    lead = client_for("lucia")
    page = lead.get("/workspace/account/").get_data(as_text=True)
    assert 'data-state="paused"' in page and 'id="resume-marketing"' in page
    assert lead.post("/workspace/account/resume-marketing").status_code == 400  # no CSRF token
    response = lead.post("/workspace/account/resume-marketing", data={"csrf_token": lead.csrf})
    assert response.status_code == 303
    page = lead.get("/workspace/account/").get_data(as_text=True)
    assert "Marketing resumed by lucia" in page and 'data-state="sending"' in page
    assert QualityRegister(redis_client, clock).current().resumed_by == "lucia"
