"""Every reply that promises the customer something names a path the product keeps. One test per
promise: each fails if the text and the code that keeps it drift apart (the promise → keeper
table is in the issue-10 report; the model-level ones are in tests/test_promises_end_to_end.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from actions import handoff as handoff_actions
from bot.content.catalog import load_catalog, variation_language
from connector.channel.turns import BACK_TO_BOT_PAYLOAD, BACK_TO_BOT_WORDS, TURN_FAILED_REPLY, rasa_text
from connector.webhook.types import KINDS, InboundMessage, Sender

ROOT = Path(__file__).resolve().parents[3]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RULES = yaml.safe_load((ROOT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
TEMPLATES = yaml.safe_load((ROOT / "templates.yml").read_text(encoding="utf-8"))
CATALOG = load_catalog(ROOT / "data" / "faq")
PERSON_TITLES = {"Talk to a person", "Hablar con persona"}
HANDOFF_RESPONSES = ("utter_handoff_queued", "utter_handoff_queued_no_eta", "utter_handoff_after_hours")


def variations(name: str) -> list[dict]:
    return DOMAIN["responses"][name]


def rule_action(intent: str) -> str:
    (rule,) = [r for r in RULES if r["steps"][0].get("intent") == intent]
    return rule["steps"][1]["action"]


def test_the_order_answer_comes_with_the_queue():
    """"A person will confirm it and send payment details here": the order rule runs the action
    that queues the chat, and that action sends this answer (actions/handoff.py ActionOrder)."""
    assert rule_action("order_received") == "action_order" == handoff_actions.ActionOrder().name()
    for variation in variations("utter_order_received"):
        assert "buttons" not in variation  # already queued: no "Talk to a person" to tap
    source = (ROOT / "actions" / "handoff.py").read_text(encoding="utf-8")
    action = source[source.index("class ActionOrder"):source.index("class ActionFallback")]
    assert 'response="utter_order_received"' in action and "hand_off(" in action


def test_every_talk_to_a_person_button_hands_off():
    """Menu, fallback, media, contacts, offer: the button says a person, its payload queues."""
    buttons = [b for vs in DOMAIN["responses"].values() for v in vs for b in v.get("buttons", [])]
    person = [b for b in buttons if b["title"] in PERSON_TITLES]
    assert len(person) >= 8 and {b["payload"] for b in person} == {"/human_handoff"}
    assert rule_action("human_handoff") == "action_handoff"
    assert {payload for _, payload in sum((b for _, b in TURN_FAILED_REPLY.values()), [])} >= {"/human_handoff"}


def test_the_words_and_button_that_leave_the_queue_are_the_ones_the_queue_texts_name():
    """"To go back to the bot, tap the button or type *menu*" / "escribe *menú*"."""
    for name in HANDOFF_RESPONSES:
        for variation in variations(name):
            assert [b["payload"] for b in variation["buttons"]] == [BACK_TO_BOT_PAYLOAD]
            for word in re.findall(r"\*([^*]+)\*", variation["text"]):
                assert word.lower() in BACK_TO_BOT_WORDS, (name, word)


def test_the_media_answer_promises_a_person_only_after_the_tap():
    """The bot does not hand off after a photo, so the answer must not say someone looks now:
    a person sees it once the customer taps the button the answer offers."""
    for variation in variations("utter_media_received"):
        text = variation["text"].lower()
        assert ("tap *talk to a person*" in text) or ("toca *hablar con persona*" in text), text
        assert not re.search(r"\b(now|ahora|already|ya lo)\b", text), text
        assert {b["title"] for b in variation["buttons"]} & PERSON_TITLES
    assert rule_action("media_received") == "utter_media_received"


def test_the_location_answer_names_the_stores_the_store_faq_lists():
    stores = CATALOG.get("store_locations")
    for variation in variations("utter_location_received"):
        language = variation_language(variation)
        for place in ("Roma", "Coyoacán"):
            assert place in variation["text"] and place in stores.answer(language)


def test_write_it_in_text_is_only_said_to_a_message_meta_could_not_pass_on():
    """Edits, deletions, call permissions and types added later are recorded, not answered."""
    answered = {kind for kind in KINDS
                if rasa_text(InboundMessage("wamid.x", kind, kind, Sender("1"), None, text="hola")) == "/unsupported_message"}
    assert answered == {"unsupported"}


def test_the_greeting_topics_are_faqs():
    """"I can answer questions about orders, shipping, returns, sizes and our stores"."""
    for key in ("order_tracking", "shipping_cost", "returns", "size_guide_shoes", "store_locations"):
        assert CATALOG.get(key) is not None, key


def test_a_whatsapp_about_a_shipped_order_has_a_template_and_promises_only_what_it_carries():
    """Outside the 24 h window only a template reaches the customer: the order-tracking answer
    promises a WhatsApp update, which delivery_update is; that template has no tracking number,
    so the answer promises the number by email only."""
    names = {(t["name"], t["language"][:2]) for t in TEMPLATES["templates"]}
    assert {("delivery_update", "es"), ("delivery_update", "en")} <= names
    faq = CATALOG.get("order_tracking")
    english, spanish = faq.answer("en"), faq.answer("es")
    assert "email you the *tracking number*" in english and "WhatsApp update" in english
    assert "por correo el *número de guía*" in spanish and "aviso por WhatsApp" in spanish


def test_the_opt_out_confirmation_keeps_order_updates(redis_client):
    """"You'll still get updates about orders you place": an opt-out touches marketing only."""
    from connector.policy.consent import MARKETING, OPTED_IN, OPTED_OUT, TRANSACTIONAL, ConsentRegister

    register = ConsentRegister(redis_client)
    register.record("521", TRANSACTIONAL, OPTED_IN, "import", by="shop")
    register.record("521", MARKETING, OPTED_OUT, "message", by="customer")
    assert register.allows("521", TRANSACTIONAL).allowed and not register.allows("521", MARKETING).allowed
    source = (ROOT / "connector" / "channel" / "turns.py").read_text(encoding="utf-8")
    assert "self.consent.record, conv, MARKETING," in source  # the command records marketing only
