"""The 24 h window is enforced on the server: free-form outside it is refused, templates go out."""
from __future__ import annotations

import html
import json
import re

from connector.policy.consent import MARKETING, OPTED_IN, ConsentRegister
from connector.policy.templates import TemplateRegister

from ..conftest import cpath


def test_reply_inside_window_goes_through_rasa_events(client_for, assigned, fake_rasa, clock):
    conv = assigned("ana")
    clock.advance(hours=20, minutes=48)
    ana = client_for("ana")
    page = ana.get(cpath(conv)).get_data(as_text=True)
    assert "Window closes in 3h 11m" in page  # 24 h minus 20 h 48 m minus the 1-minute margin
    response = ana.post(f"{cpath(conv)}/reply", data={"text": "¡Hola María! Te ayudo.", "csrf_token": ana.csrf})
    assert response.status_code == 303
    [post] = fake_rasa.posts(conv)
    assert post.query == {"token": fake_rasa.token, "include_events": "NONE",
                          "execute_side_effects": "true", "output_channel": "whatsapp"}
    assert post.body == [{"event": "bot", "text": "¡Hola María! Te ayudo.", "metadata": {"agent": "ana"}}]
    history = ana.get(cpath(conv)).get_data(as_text=True)
    assert "Agent ana" in history and "¡Hola María! Te ayudo." in history


def test_free_form_outside_window_is_refused_with_409(client_for, assigned, fake_rasa, clock):
    conv = assigned("ana")
    ana = client_for("ana")
    clock.advance(hours=25)
    response = ana.post(f"{cpath(conv)}/reply", data={"text": "¿Sigues ahí?", "csrf_token": ana.csrf})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "window is closed" in body and "not sent" in body
    assert "¿Sigues ahí?" in body  # the draft is kept for the agent
    assert fake_rasa.posts() == []
    json_response = ana.post(f"{cpath(conv)}/reply", data={"text": "x", "csrf_token": ana.csrf},
                             headers={"Accept": "application/json"})
    assert json_response.status_code == 409 and "window is closed" in json_response.json["error"]


def test_window_closed_by_meta_is_respected(client_for, assigned, fake_rasa, window):
    conv = assigned("ana")
    window.close(conv, "131047")
    ana = client_for("ana")
    assert ana.post(f"{cpath(conv)}/reply", data={"text": "hola", "csrf_token": ana.csrf}).status_code == 409
    assert fake_rasa.posts() == []


def test_outside_window_page_offers_only_templates(client_for, assigned, clock):
    conv = assigned("ana")
    clock.advance(hours=25)
    page = client_for("ana").get(cpath(conv)).get_data(as_text=True)
    assert "24-hour window closed" in page
    assert '<details class="template-box" id="template-box" open>' in page
    textarea = page[page.index('id="reply-text"'):page.index("</textarea>")]
    assert "disabled" in textarea
    assert "reengage_es" in page and "hello_world" in page


def test_a_template_to_a_customer_who_did_not_opt_in_is_refused_with_the_reason_and_never_sent(
        client_for, assigned, fake_rasa, clock):
    conv = assigned("ana")
    clock.advance(hours=30)
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/template", data={"template": "reengage_es:es_MX", "p1": "María",
                                                     "csrf_token": ana.csrf})
    assert response.status_code == 409
    assert ("The template was not sent: marketing: no opt-in recorded for this contact"
            in response.get_data(as_text=True))
    assert fake_rasa.posts(conv) == []


def test_template_outside_window_is_sent(client_for, assigned, fake_rasa, clock, redis_client):
    conv = assigned("ana")
    ConsentRegister(redis_client, clock).record(conv, MARKETING, OPTED_IN, "web_form")
    clock.advance(hours=30)
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/template", data={"template": "reengage_es:es_MX", "p1": "María",
                                                     "csrf_token": ana.csrf})
    assert response.status_code == 303
    [post] = fake_rasa.posts(conv)
    assert post.query["execute_side_effects"] == "true"
    assert post.body == [{
        "event": "bot",
        "data": {"custom": {"type": "template", "template": {
            "name": "reengage_es", "language": {"code": "es_MX"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "María"}]},
                # The opt-out quick reply's payload (templates.yml), so a tap is recognised.
                {"type": "button", "sub_type": "quick_reply", "index": "2",
                 "parameters": [{"type": "payload", "payload": "STOP_PROMOTIONS"}]}]}}},
        "metadata": {"agent": "ana", "template_name": "reengage_es"},
    }]
    page = ana.get(cpath(conv)).get_data(as_text=True)
    assert "template reengage_es" in page and "Hola María, seguimos aquí" in page


def test_template_needs_its_parameters(client_for, assigned, fake_rasa):
    conv = assigned("ana")
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/template", data={"template": "reengage_es:es_MX", "p1": " ",
                                                     "csrf_token": ana.csrf})
    assert response.status_code == 400
    assert "The template was not sent: Parameter 1 (nombre) is empty" in response.get_data(as_text=True)
    response = ana.post(f"{cpath(conv)}/template", data={"template": "made_up:es", "csrf_token": ana.csrf})
    assert response.status_code == 400 and "Unknown template" in response.get_data(as_text=True)
    response = ana.post(f"{cpath(conv)}/template", data={
        "template": "order_confirmation:es_MX", "p1": "A-1", "p2": "María", "p3": "A-1", "p4": "mil pesos",
        "csrf_token": ana.csrf})
    assert response.status_code == 400
    assert "Parameter 4 (total) is an amount with its currency code" in response.get_data(as_text=True)
    assert fake_rasa.posts() == []


def test_picker_offers_approved_templates_in_the_customers_language_first(client_for, assigned, redis_client, clock):
    conv = assigned("ana", language="en")
    TemplateRegister(redis_client, clock).record_status("promo_temporada", "en_US", "paused")
    page = client_for("ana").get(cpath(conv)).get_data(as_text=True)
    options = re.findall(r'<option value="([a-z_]+:[a-zA-Z_]+)" data-params="([^"]*)"', page)
    keys = [key for key, _ in options]
    assert "promo_temporada:en_US" not in keys and "promo_temporada:es_MX" in keys
    english = [k for k in keys if k.endswith(":en_US")]
    assert keys[:len(english)] == english  # the customer's language first
    params = json.loads(html.unescape(dict(options)["order_confirmation:en_US"]))
    assert [(p["name"], p["type"]) for p in params] == [
        ("order number", "text"), ("name", "text"), ("order number", "text"), ("total", "currency")]
    assert params[3]["example"] == "64.90 USD"


def test_a_typed_template_is_sent_with_its_parameters(client_for, assigned, fake_rasa):
    conv = assigned("ana")
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/template", data={
        "template": "order_confirmation:es_MX", "p1": "A-1", "p2": "María", "p3": "A-1", "p4": "1250.50 MXN",
        "csrf_token": ana.csrf})
    assert response.status_code == 303
    [post] = fake_rasa.posts(conv)
    template = post.body[0]["data"]["custom"]["template"]
    assert template["components"][1]["parameters"][2]["currency"] == {
        "fallback_value": "1,250.50 MXN", "code": "MXN", "amount_1000": 1250500}


def test_window_endpoint_reports_sendable_deadline(client_for, assigned, clock):
    conv = assigned("ana")
    status = client_for("ana").get(f"{cpath(conv)}/window").json
    assert status["open"] is True
    assert status["closes_at"] == "2026-01-06T11:59:00+00:00"


def test_rasa_failure_keeps_the_draft(client_for, assigned, fake_rasa):
    conv = assigned("ana")
    fake_rasa.fail_posts = True
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/reply", data={"text": "Mi respuesta", "csrf_token": ana.csrf})
    assert response.status_code == 502
    body = response.get_data(as_text=True)
    assert "The reply was not sent" in body and "Mi respuesta" in body
