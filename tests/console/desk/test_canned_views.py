"""Canned replies: everyone reads them, only leads manage them."""
from __future__ import annotations


def test_only_leads_manage_canned_replies(client_for):
    ana, lucia = client_for("ana"), client_for("lucia")
    data = {"language": "es", "title": "Horario", "text": "Abrimos de 10 a 20 h."}
    assert ana.post("/canned/", data={**data, "csrf_token": ana.csrf}).status_code == 403
    assert lucia.post("/canned/", data={**data, "csrf_token": lucia.csrf}).status_code == 303
    assert "Abrimos de 10 a 20 h." in ana.get("/canned/").get_data(as_text=True)
