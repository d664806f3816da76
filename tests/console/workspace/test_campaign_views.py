"""Campaign pages: leads only; a CSV audience with someone not opted in lists them as refused;
stop and resume from the page."""
import io

from connector.outreach.store import HELD, REFUSED, SCHEDULED
from connector.policy.consent import ConsentRegister
from connector.policy.templates import TemplateRegister

OPTED_IN, NOT_OPTED_IN = "5215512347101", "5215512347102"


def test_a_lead_runs_a_campaign_from_a_csv_and_stops_and_resumes_it(client_for, app, redis_client, clock):
    TemplateRegister(redis_client, clock).load_file()
    ConsentRegister(redis_client, clock).record(OPTED_IN, "marketing", "opted_in", "web_form")
    assert client_for("ana").get("/workspace/campaigns/").status_code == 403

    lead = client_for("lucia")
    page = lead.get("/workspace/campaigns/").get_data(as_text=True)
    assert "promo_temporada (es_MX)" in page and "order_confirmation" not in page  # marketing only
    csv_file = (io.BytesIO(f"wa_id,param1\n{OPTED_IN},Ana\n{NOT_OPTED_IN},Luis\n".encode()), "audience.csv")
    created = lead.post("/workspace/campaigns/", data={
        "csrf_token": lead.csrf, "name": "Rebajas de enero", "template": "promo_temporada:es_MX",
        "params": "Cliente\n20 %\n31 de enero", "audience": "csv", "csv": csv_file, "send_at": "2026-01-05T18:00"},
        content_type="multipart/form-data")
    assert created.status_code == 422  # a contact's own params replace all of the campaign's: one is too few
    assert "takes 3 parameter" in created.get_data(as_text=True)

    csv_file = (io.BytesIO(f"wa_id\n{OPTED_IN}\n{NOT_OPTED_IN}\n".encode()), "audience.csv")
    created = lead.post("/workspace/campaigns/", data={
        "csrf_token": lead.csrf, "name": "Rebajas de enero", "template": "promo_temporada:es_MX",
        "params": "Cliente\n20 %\n31 de enero", "audience": "csv", "csv": csv_file, "send_at": "2026-01-05T18:00"},
        content_type="multipart/form-data")
    assert created.status_code == 302
    detail = created.headers["Location"]
    page = lead.get(detail).get_data(as_text=True)
    assert "marketing: no opt-in recorded for this contact" in page and NOT_OPTED_IN in page
    campaigns = app.extensions["console"].campaigns
    (campaign,) = campaigns.all()
    states = lambda: {s.to: s.state for s in campaigns.sends(campaign.id)}  # noqa: E731
    assert states() == {OPTED_IN: SCHEDULED, NOT_OPTED_IN: REFUSED}

    assert lead.post(f"{detail}/stop", data={"csrf_token": lead.csrf}).status_code == 302
    assert states()[OPTED_IN] == HELD and "Resume" in lead.get(detail).get_data(as_text=True)
    lead.post(f"{detail}/resume", data={"csrf_token": lead.csrf})
    assert states() == {OPTED_IN: SCHEDULED, NOT_OPTED_IN: REFUSED}
    assert "Rebajas de enero" in lead.get("/workspace/campaigns/").get_data(as_text=True)
