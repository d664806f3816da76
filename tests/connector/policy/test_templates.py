"""The template register: the file, the 250 limit, language fallback, parameters, Meta's reports."""
import datetime as dt

import pytest
import yaml

from connector.policy.consent import MARKETING, TRANSACTIONAL
from connector.policy.templates import (
    MAX_TEMPLATES, TEMPLATES_FILE, TemplateError, TemplateRegister,
)
from core.clock import FixedClock
from tests.connector.fake_graph import NOON

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def register(redis_client):
    r = TemplateRegister(redis_client, FixedClock(NOON))
    r.load_file()
    return r


def write(tmp_path, templates, **extra):
    path = tmp_path / "templates.yml"
    path.write_text(yaml.safe_dump({"templates": templates, **extra}, allow_unicode=True), encoding="utf-8")
    return path


def simple(name, language="es_MX", body="Hola {{1}}", params=({"name": "nombre"},), **extra):
    return {"name": name, "language": language, "category": "utility",
            "components": [{"type": "BODY", "text": body, "params": list(params)}], **extra}


def test_the_repository_file_loads_with_what_the_business_sends(register):
    keys = {t.key for t in register.all()}
    for name in ("order_confirmation", "delivery_update", "appointment_reminder", "promo_temporada"):
        assert {f"{name}:es_MX", f"{name}:en_US"} <= keys
    assert {"reengage_es:es_MX", "reengage_en:en_US", "hello_world:en_US"} <= keys
    assert all(t.approved and t.quality == "unknown" for t in register.all())
    promo = register.get("promo_temporada", "es_MX")
    assert promo.purpose == MARKETING and register.get("order_confirmation", "es_MX").purpose == TRANSACTIONAL
    assert [b.text for b in promo.buttons][-1] == "Dejar de recibir"
    assert [b.text for b in register.get("reengage_en", "en_US").buttons][-1] == "Stop promotions"
    assert [(p.name, p.type) for p in register.get("order_confirmation", "en_US").params] == [
        ("order number", "text"), ("name", "text"), ("order number", "text"), ("total", "currency")]


def test_prepare_builds_the_cloud_api_object_and_the_text_the_customer_reads(register):
    prepared = register.prepare("order_confirmation", "es_MX", ["A-1042", "María", "A-1042", "1250.5 MXN"])
    assert prepared.body == {
        "name": "order_confirmation", "language": {"code": "es_MX"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "A-1042"}]},
            {"type": "body", "parameters": [
                {"type": "text", "text": "María"}, {"type": "text", "text": "A-1042"},
                {"type": "currency", "currency": {"fallback_value": "1,250.50 MXN", "code": "MXN",
                                                  "amount_1000": 1250500}}]},
        ]}
    assert prepared.text.splitlines() == [
        "Pedido A-1042 confirmado",
        "Hola María, recibimos tu pedido A-1042 por 1,250.50 MXN. Te avisaremos cuando salga a entrega.",
        "Responde a este mensaje si tienes dudas."]
    assert register.of_body(prepared.body) == prepared.template
    assert register.text_of(prepared.body) == prepared.text


def test_date_time_parameters_and_quick_reply_payloads(register):
    when = dt.datetime(2026, 1, 12, 10, 30)
    prepared = register.prepare("appointment_reminder", "en_US", ["Mary", when])
    body, *buttons = prepared.body["components"]
    assert body["parameters"][1] == {"type": "date_time", "date_time": {"fallback_value": "2026-01-12 10:30"}}
    assert buttons == [
        {"type": "button", "sub_type": "quick_reply", "index": str(i), "parameters": [{"type": "payload", "payload": p}]}
        for i, p in enumerate(("APPOINTMENT_CONFIRM", "APPOINTMENT_CHANGE"))]
    promo = register.prepare("promo_temporada", "es", ["Ana", "20 %", "31 de enero"]).body
    assert promo["components"][-1]["parameters"] == [{"type": "payload", "payload": "STOP_PROMOTIONS"}]


@pytest.mark.parametrize("params, says", [
    (["María"], "takes 2 parameter(s), got 1: nombre (text), fecha y hora (date_time)"),
    (["María", "lunes", "extra"], "takes 2 parameter(s), got 3"),
    (["", "lunes"], "Parameter 1 (nombre) is empty"),
    (["María\nJosé", "lunes"], "no newlines, tabs or more than 4 spaces"),
    (["María     José", "lunes"], "no newlines, tabs or more than 4 spaces"),
    (["María\tJosé", "lunes"], "no newlines, tabs or more than 4 spaces"),
    ([{"amount": 3}, "lunes"], "Parameter 1 (nombre) is text"),
    (["María", "x" * 1000], "longer than 1024 characters"),
])
def test_parameters_of_the_wrong_count_or_shape_are_refused_plainly(register, params, says):
    with pytest.raises(TemplateError, match=f"^.*{says.replace('(', '[(]').replace(')', '[)]')}"):
        register.prepare("appointment_reminder", "es_MX", params)


@pytest.mark.parametrize("total", ["1250", "$1250", "MXN 12 50", "1250 MXN USD", {"code": "MXN"},
                                   {"amount": 12, "code": "pesos"}])
def test_currency_needs_an_amount_and_an_iso_code(register, total):
    with pytest.raises(TemplateError, match=r"Parameter 4 \(total\)"):
        register.prepare("order_confirmation", "es_MX", ["A-1", "María", "A-1", total])


def test_currency_accepts_the_code_first_or_a_mapping(register):
    for total in ("MXN 1,250.50", {"amount": 1250.5, "code": "MXN"}, {"amount_1000": 1250500, "code": "MXN"}):
        param = register.prepare("order_confirmation", "es_MX", ["A-1", "María", "A-1", total]).body["components"][1]["parameters"][2]
        assert param["currency"]["amount_1000"] == 1250500 and param["currency"]["code"] == "MXN"


def test_a_header_filled_past_60_characters_is_refused(register):
    with pytest.raises(TemplateError, match="header, filled in, is longer than 60"):
        register.prepare("order_confirmation", "es_MX", ["A" * 50, "María", "A-1", "1 MXN"])


@pytest.mark.parametrize("wanted, picked", [
    ("es_MX", "es_MX"), ("en_US", "en_US"), ("es", "es_MX"), ("es-ar", "es_MX"), ("en_GB", "en_US"),
    ("pt_BR", "es_MX"), (None, "es_MX"), ("", "es_MX"),
])
def test_pick_matches_the_customers_language_then_the_base_then_the_default_order(register, wanted, picked):
    assert register.pick("order_confirmation", wanted).language == picked


def test_pick_prefers_the_bare_base_code_and_refuses_languages_outside_the_chain(tmp_path, redis_client):
    register = TemplateRegister(redis_client, FixedClock(NOON))
    register.load_file(write(tmp_path, [simple("t"), simple("t", "es"), simple("solo_pt", "pt_BR")],
                             fallback_languages=["en_US", "es_MX"]))
    assert register.pick("t", "es_AR").language == "es"
    assert register.pick("t", "en").language == "es_MX"  # en_US is first but absent: next in order
    assert register.pick("solo_pt", "pt_PT").language == "pt_BR"
    with pytest.raises(TemplateError, match="exists only in pt_BR: not in the customer's language"):
        register.pick("solo_pt", "es_MX")
    with pytest.raises(TemplateError, match="no template named 'nope'"):
        register.pick("nope", "es_MX")


def test_a_template_not_approved_is_not_prepared_and_the_language_is_not_swapped_for_it(register):
    register.record_status("reengage_es", "es_MX", "paused", reason="low quality", at=NOON)
    with pytest.raises(TemplateError, match=r"reengage_es \(es_MX\) is paused \(low quality\), not approved"):
        register.prepare("reengage_es", "es_MX", ["María"])


def test_the_250_limit_counts_names_not_translations(tmp_path, redis_client):
    register = TemplateRegister(redis_client, FixedClock(NOON))
    names = [simple(f"t{i}", language) for i in range(MAX_TEMPLATES) for language in ("es_MX", "en_US")]
    assert register.load_file(write(tmp_path, names)) == 2 * MAX_TEMPLATES
    with pytest.raises(TemplateError, match=f"251 templates: .* at most {MAX_TEMPLATES}"):
        register.load_file(write(tmp_path, [simple("one_more")]))
    assert len(register.all()) == 2 * MAX_TEMPLATES  # nothing of the refused file was kept


@pytest.mark.parametrize("item, says", [
    (simple("Bad-Name"), "template Bad-Name"),
    (simple("t", language="spanish"), "language 'spanish' is not a Meta language code"),
    ({**simple("t"), "category": "newsletter"}, "category 'newsletter'"),
    (simple("t", body="Hola {{1}} {{3}}", params=[{"name": "a"}, {"name": "b"}]), "in sequence"),
    (simple("t", body="Hola {{1}} {{2}}"), "declares 1 param(s) for 2 placeholder(s)"),
    (simple("t", params=[{"name": "a", "type": "image"}]), "param 1 has type 'image'"),
    ({**simple("t"), "status": "live"}, "status 'live'"),
    ({**simple("t"), "components": []}, "`components` must be a non-empty list"),
    ({**simple("t"), "components": [{"type": "FOOTER", "text": "x"}]}, "a BODY component is required"),
    (simple("t", body="x" * 1025, params=()), "longer than 1024"),
])
def test_a_bad_file_names_the_template_and_the_field(tmp_path, redis_client, item, says):
    register = TemplateRegister(redis_client, FixedClock(NOON))
    with pytest.raises(TemplateError, match=says.replace("(", r"\(").replace(")", r"\)").replace("{", r"\{").replace("}", r"\}")):
        register.load_file(write(tmp_path, [item]))
    assert register.all() == []


def test_a_file_listing_one_translation_twice_is_refused(tmp_path, redis_client):
    with pytest.raises(TemplateError, match="listed twice: t:es_MX"):
        TemplateRegister(redis_client).load_file(write(tmp_path, [simple("t"), simple("t")]))


def test_status_webhooks_out_of_order_and_redelivered_change_nothing(register):
    assert register.record_status("promo_temporada", "es_MX", "paused", at=NOON + 2 * HOUR, ref="w2")
    # An older webhook arriving late, then the newer one again: the paused state stands.
    assert not register.record_status("promo_temporada", "es_MX", "approved", at=NOON + HOUR, ref="w1")
    assert not register.record_status("promo_temporada", "es_MX", "paused", at=NOON + 2 * HOUR, ref="w2")
    assert register.get("promo_temporada", "es_MX").status == "paused"
    assert register.record_status("promo_temporada", "es_MX", "approved", at=NOON + 3 * HOUR, ref="w3")
    assert register.get("promo_temporada", "es_MX").approved
    # Loading the file again does not undo what Meta said.
    register.load_file()
    register.record_status("promo_temporada", "es_MX", "disabled", at=NOON + 4 * HOUR, ref="w4")
    register.load_file()
    assert register.get("promo_temporada", "es_MX").status == "disabled"


def test_quality_webhooks_out_of_order_and_redelivered(register):
    assert register.record_quality("reengage_en", "en_US", "yellow", at=NOON + HOUR, ref="q1")
    assert register.record_quality("reengage_en", "en_US", "red", at=NOON + 2 * HOUR, ref="q2")
    assert not register.record_quality("reengage_en", "en_US", "green", at=NOON, ref="q0")
    assert not register.record_quality("reengage_en", "en_US", "red", at=NOON + 2 * HOUR, ref="q2")
    assert register.get("reengage_en", "en_US").quality == "red"
    with pytest.raises(TemplateError):
        register.record_quality("reengage_en", "en_US", "purple")


def meta_item(name, language, status="APPROVED", body="Hola {{1}}", score="GREEN", **extra):
    return {"id": f"id-{name}-{language}", "name": name, "language": language, "category": "UTILITY",
            "status": status, "quality_score": {"score": score},
            "components": [{"type": "BODY", "text": body, "example": {"body_text": [["Ana"]]}}], **extra}


def test_sync_takes_meta_as_the_truth_and_keeps_declared_parameter_types(register):
    items = [
        meta_item("appointment_reminder", "es_MX", "PAUSED", body="Hola {{1}}, tu cita es el {{2}}.", score="YELLOW"),
        meta_item("new_one", "es_MX", body="Hola {{1}}"),
    ]
    summary = register.sync(items)
    assert summary["added"] == ["new_one:es_MX"] and summary["updated"] == ["appointment_reminder:es_MX"]
    assert "order_confirmation:es_MX" in summary["removed"] and summary["skipped"] == []
    reminder = register.get("appointment_reminder", "es_MX")
    assert (reminder.status, reminder.quality, reminder.id) == ("paused", "yellow", "id-appointment_reminder-es_MX")
    assert [p.type for p in reminder.params] == ["text", "date_time"]  # Meta does not say; the file did
    assert [(p.name, p.type, p.example) for p in register.get("new_one", "es_MX").params] == [("{{1}}", "text", "Ana")]
    assert register.get("order_confirmation", "es_MX") is None
    # A webhook older than the sync does not undo it; the file reloaded does not either, and
    # what it adds back is pending until Meta approves it.
    assert not register.record_status("appointment_reminder", "es_MX", "approved", at=NOON - HOUR, ref="old")
    register.load_file()
    assert register.get("appointment_reminder", "es_MX").status == "paused"
    assert register.get("order_confirmation", "es_MX").status == "pending"


def test_sync_skips_what_it_cannot_read_and_enforces_the_limit(register):
    summary = register.sync([meta_item("ok", "es_MX"), {"name": "broken", "language": "es_MX", "category": "UTILITY"}])
    assert summary["added"] == ["ok:es_MX"] and summary["skipped"][0][0] == "broken:es_MX"
    with pytest.raises(TemplateError, match="at most 250"):
        register.sync([meta_item(f"t{i}", "es_MX") for i in range(MAX_TEMPLATES + 1)])


def test_of_body_finds_the_register_entry_or_none(register):
    assert register.of_body({"name": "hello_world", "language": {"code": "en_US"}}).key == "hello_world:en_US"
    assert register.of_body({"name": "hello_world", "language": {"code": "es"}}) is None
    assert register.of_body({"name": "hello_world"}) is None


def test_the_default_file_is_the_one_at_the_top_of_the_repository():
    assert TEMPLATES_FILE.name == "templates.yml" and (TEMPLATES_FILE.parent / "hours.yml").exists()
