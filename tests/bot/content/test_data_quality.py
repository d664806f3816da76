"""The shipped training data and responses: coverage, both languages everywhere, same facts."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml

from bot.content.catalog import LANGUAGES, load_catalog, parse_examples, variation_language
from bot.content.validate import FAQ_PICK, normalise
from bot.hours.schedule import BusinessHours

ROOT = Path(__file__).resolve().parents[3]
CATALOG = load_catalog(ROOT / "data" / "faq")
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
CORE = yaml.safe_load((ROOT / "data" / "nlu" / "core.yml").read_text(encoding="utf-8"))

CORE_INTENTS = ("greet", "goodbye", "thanks", "bot_challenge", "human_handoff", "main_menu",
                "affirm", "deny", "out_of_scope")
# The topics the business asked for, by key.
REQUIRED_TOPICS = (
    "opening_hours", "store_locations", "shipping_time", "shipping_cost", "international_shipping",
    "order_tracking", "order_change_cancel", "returns", "exchanges", "refund_timing",
    "payment_methods", "installments", "cash_payment_oxxo", "invoice", "warranty",
    "size_guide_shoes", "size_guide_clothes", "stock_availability", "restock_notify", "promotions",
    "gift_cards", "loyalty_program", "click_and_collect", "damaged_wrong_item", "account_password",
    "privacy", "whatsapp_opt_out", "contact_channels", "wholesale", "jobs", "care_instructions",
    "price_match",
)
FAQ_IDS = [faq.key for faq in CATALOG]
NUMBERS = re.compile(r"\d+(?:[.,:]\d+)*")
LINKS = re.compile(r"[\w.-]+@[\w.-]+|alba\.example[\w/]*")


def test_at_least_30_faqs_covering_every_required_topic():
    assert len(CATALOG) >= 30
    assert set(REQUIRED_TOPICS) <= set(CATALOG.keys())


@pytest.mark.parametrize("faq", CATALOG, ids=FAQ_IDS)
def test_faq_has_at_least_10_distinct_examples_per_language(faq):
    for language in LANGUAGES:
        examples = faq.examples.get(language, [])
        assert len(examples) >= 10, f"{faq.key}: {len(examples)} {language} examples"
        normalised = [normalise(e) for e in examples]
        assert len(set(normalised)) == len(normalised), f"{faq.key}: repeated {language} example"


@pytest.mark.parametrize("faq", CATALOG, ids=FAQ_IDS)
def test_faq_answers_in_both_languages_spanish_default(faq):
    variations = faq.answers.get("en", []) + faq.answers.get("es", [])
    assert [v.language for v in variations] == ["en", "es"], faq.key
    raw = faq.path.read_text(encoding="utf-8")
    answers = yaml.safe_load(raw)["responses"][faq.response]
    # Rasa picks the first variation whose condition matches, so the unconditioned one goes last.
    assert "condition" not in answers[-1] and variation_language(answers[0]) == "en"
    for variation in variations:
        assert 0 < len(variation.text) <= 1024


@pytest.mark.parametrize("faq", CATALOG, ids=FAQ_IDS)
def test_faq_answer_states_the_same_facts_in_both_languages(faq):
    spanish, english = faq.answer("es"), faq.answer("en")
    assert sorted(NUMBERS.findall(spanish)) == sorted(NUMBERS.findall(english)), faq.key
    assert sorted(LINKS.findall(spanish)) == sorted(LINKS.findall(english)), faq.key


@pytest.mark.parametrize("intent", CORE_INTENTS)
def test_core_intent_has_at_least_12_examples_per_language(intent):
    counts = {language: 0 for language in LANGUAGES}
    for item in CORE["nlu"]:
        if item.get("intent") == intent:
            counts[item["metadata"]["language"]] += len(parse_examples(item["examples"]))
    assert all(n >= 12 for n in counts.values()), counts


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_domain_response_in_both_languages_spanish_default(name):
    variations = DOMAIN["responses"][name]
    assert [variation_language(v) for v in variations] == ["en", "es"]
    assert "condition" not in variations[-1]
    english, spanish = variations
    assert len(english.get("buttons", [])) == len(spanish.get("buttons", []))
    assert [b["payload"] for b in english.get("buttons", [])] == [b["payload"] for b in spanish.get("buttons", [])]


def payloads(name: str) -> list[str]:
    return [b["payload"] for b in DOMAIN["responses"][name][-1]["buttons"]]


def test_main_menu_is_a_list_of_faqs_plus_a_person():
    for variation in DOMAIN["responses"]["utter_main_menu"]:
        assert 4 <= len(variation["buttons"]) <= 10
        assert all(len(b["title"]) <= 20 for b in variation["buttons"])
    picks = payloads("utter_main_menu")
    assert picks[-1] == "/human_handoff"
    for payload in picks[:-1]:
        key = json.loads(FAQ_PICK.match(payload).group(1))["faq_key"]
        assert CATALOG.get(key) is not None, payload


def test_anything_else_offers_menu_person_and_goodbye():
    for variation in DOMAIN["responses"]["utter_anything_else"]:
        assert len(variation["buttons"]) == 3
        assert all(len(b["title"]) <= 20 for b in variation["buttons"])
    assert payloads("utter_anything_else") == ["/main_menu", "/human_handoff", "/goodbye"]


def test_fallback_offers_menu_and_person():
    assert payloads("utter_default") == ["/main_menu", "/human_handoff"]


def test_language_slot_and_session_carry_over():
    slot = DOMAIN["slots"]["language"]
    assert slot["values"] == ["es", "en"] and slot["initial_value"] == "es"
    assert slot["influence_conversation"] is False
    assert slot["mappings"] == [{"type": "from_entity", "entity": "language"}]
    assert DOMAIN["session_config"]["carry_over_slots_to_new_session"] is True



@pytest.mark.parametrize("name", [n for n, variations in DOMAIN["responses"].items()
                                  if any("{back}" in v.get("text", "") for v in variations)])
def test_a_response_with_the_return_time_names_the_team_once(name):
    """{back} is BusinessHours.back_message's whole sentence ("Nuestro equipo vuelve…", "Our
    team is back…"); the text around it must not say the team again."""
    hours = BusinessHours.from_file(ROOT / "hours.yml")
    week = (dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=h) for h in range(24 * 7))
    closed_at = next(at for at in week if not hours.is_open(at))
    for variation in DOMAIN["responses"][name]:
        language = variation_language(variation)
        text = variation["text"].replace("{back}", hours.back_message(closed_at, language))
        team = "our team" if language == "en" else "nuestro equipo"
        assert text.lower().count(team) == 1, text
