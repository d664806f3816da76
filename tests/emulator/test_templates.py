"""The emulator approves what templates.yml lists, rejects sends the way Meta does, pages its
template list, and sends Meta's template webhooks when a dev endpoint changes a template."""
from __future__ import annotations

import pytest

from connector.policy.templates import TemplateRegister
from connector.webhook.inbound import parse_webhook
from connector.webhook.intake import Intake
from connector.webhook.identity import Identity
from connector.inbox.queue import Ingest

from .conftest import CUSTOMER, TOKEN, wait_for


def send(emu, template: dict):
    return emu.send({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template", "template": template})


def text(*values):
    return [{"type": "text", "text": v} for v in values]


def reminder(*params):
    return {"name": "appointment_reminder", "language": {"code": "es_MX"},
            "components": [{"type": "body", "parameters": list(params)}]}


DATE = {"type": "date_time", "date_time": {"fallback_value": "lunes 12 de enero, 10:30"}}


def test_what_the_register_prepares_the_emulator_accepts_and_shows_alike(emu, redis_client):
    """The two read templates.yml separately (the emulator shares no code with the connector):
    every translation, filled with its examples, is accepted and reads the same on the phone."""
    register = TemplateRegister(redis_client)
    register.load_file()
    for template in register.all():
        params = [p.example if p.type != "currency" else "1250.00 MXN" for p in template.params]
        prepared = register.prepare(template.name, template.language, params)
        response = send(emu, prepared.body)
        assert response.status_code == 200, (template.key, response.text)
        wamid = response.json()["messages"][0]["id"]
        [msg] = [m for m in emu.client.get(f"{emu.base}/_emulator/messages", params={"to": CUSTOMER}).json()["messages"]
                 if m["id"] == wamid]
        rendered = msg["rendered"]
        shown = "\n".join(p for p in (rendered.get("header"), rendered.get("body"), rendered.get("footer")) if p)
        assert shown == prepared.text, template.key
        payloads = [b.payload or b.text for b in template.buttons]
        assert [b["payload"] for b in rendered["buttons"]] == payloads


@pytest.mark.parametrize("template, code", [
    ({"name": "no_such_template", "language": {"code": "es_MX"}}, 132001),
    ({"name": "order_confirmation", "language": {"code": "pt_BR"}}, 132001),
    (reminder(*text("María")), 132000),
    (reminder(*text("María", "lunes", "extra")), 132000),
    ({"name": "order_confirmation", "language": {"code": "es_MX"}, "components": [  # header param missing
        {"type": "body", "parameters": text("María", "A-1") + [{"type": "currency", "currency": {
            "fallback_value": "$1", "code": "MXN", "amount_1000": 1000}}]}]}, 132000),
    (reminder(*text("María"), {"type": "currency", "currency": {"code": "MXN"}}), 132012),
    (reminder({"type": "image", "image": {"link": "https://x"}}, DATE), 132012),
    (reminder(*text("María\nJosé"), DATE), 100),
    (reminder(*text("María      José"), DATE), 100),
    (reminder(*text("x" * 1100), DATE), 132005),
    ({**reminder(*text("María"), DATE), "components": reminder(*text("María"), DATE)["components"] + [
        {"type": "button", "sub_type": "quick_reply", "index": "5", "parameters": [{"type": "payload", "payload": "X"}]}]},
     131009),
])
def test_sends_meta_would_refuse_are_refused_with_metas_code(emu, template, code):
    response = send(emu, template)
    assert response.status_code in (400, 404) and response.json()["error"]["code"] == code, response.text
    assert emu.client.get(f"{emu.base}/_emulator/messages", params={"to": CUSTOMER}).json()["messages"] == []


@pytest.mark.parametrize("status, code", [("PAUSED", 132015), ("DISABLED", 132016), ("PENDING", 132001),
                                          ("REJECTED", 132001)])
def test_a_template_not_approved_is_refused_and_reinstated_it_goes(emu, status, code):
    url = f"{emu.base}/_emulator/templates/appointment_reminder/es_MX/status"
    assert emu.client.post(url, json={"status": status}).status_code == 200
    assert send(emu, reminder(*text("María"), DATE)).json()["error"]["code"] == code
    emu.client.post(url, json={"status": "APPROVED"})
    assert send(emu, reminder(*text("María"), DATE)).status_code == 200


def test_template_list_pages_like_meta(emu):
    url = f"{emu.base}/v23.0/{emu.settings.waba_id}/message_templates"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    first = emu.client.get(url, params={"limit": 5, "fields": "name,status"}, headers=headers).json()
    assert len(first["data"]) == 5 and "fields=name%2Cstatus" in first["paging"]["next"]
    seen, page = list(first["data"]), first
    while "next" in page["paging"]:
        page = emu.client.get(page["paging"]["next"], headers=headers).json()
        seen += page["data"]
    everything = emu.client.get(f"{emu.base}/_emulator/templates").json()["data"]
    assert seen == everything and len(everything) == 11  # templates.yml: 7 names, 11 translations
    order = next(t for t in everything if (t["name"], t["language"]) == ("order_confirmation", "es_MX"))
    assert order["status"] == "APPROVED" and order["category"] == "UTILITY" and order["quality_score"]["score"] == "UNKNOWN"
    assert order["components"][0] == {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}} confirmado",
                                      "example": {"header_text": ["A-1042"]}}
    assert order["components"][1]["example"] == {"body_text": [["María", "A-1042", "1250.00 MXN"]]}


def test_dev_endpoints_send_metas_template_webhooks_which_the_connector_records(emu, receiver, redis_client):
    base = f"{emu.base}/_emulator/templates/promo_temporada/es_MX"
    emu.client.post(f"{base}/quality", json={"score": "RED"})
    emu.client.post(f"{base}/status", json={"status": "PAUSED", "reason": "Low quality: paused for 3 hours"})
    bodies = wait_for(lambda: len(receiver.bodies()) >= 2 and receiver.bodies(), what="two template webhooks")
    quality, status = (b["entry"][0]["changes"][0] for b in bodies)
    assert quality["field"] == "message_template_quality_update"
    assert quality["value"] == {"previous_quality_score": "UNKNOWN", "new_quality_score": "RED",
                                "message_template_id": quality["value"]["message_template_id"],
                                "message_template_name": "promo_temporada", "message_template_language": "es_MX"}
    assert status["field"] == "message_template_status_update" and status["value"]["event"] == "PAUSED"
    assert status["value"]["other_info"]["description"] == "Low quality: paused for 3 hours"
    assert bodies[1]["entry"][0]["id"] == emu.settings.waba_id and "metadata" not in status["value"]

    register = TemplateRegister(redis_client)
    register.load_file()
    intake = Intake(Ingest(redis_client), Identity(redis_client), templates=register)
    for body in bodies:
        intake.accept(parse_webhook(body))
    promo = register.get("promo_temporada", "es_MX")
    assert (promo.status, promo.quality, promo.reason) == ("paused", "red", "Low quality: paused for 3 hours")


def test_dev_endpoints_refuse_unknown_templates_and_values(emu):
    assert emu.client.post(f"{emu.base}/_emulator/templates/nope/es_MX/status", json={"status": "PAUSED"}).status_code == 400
    assert emu.client.post(f"{emu.base}/_emulator/templates/promo_temporada/es_MX/status",
                           json={"status": "LIVE"}).status_code == 400
    assert emu.client.post(f"{emu.base}/_emulator/templates/promo_temporada/es_MX/quality",
                           json={"score": "PURPLE"}).status_code == 400
