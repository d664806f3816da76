"""console.workspace.faq_editor: each check lands on its field; errors make a draft, never a write;
a conflicting save keeps both edits; renames and deletes keep the catalogue valid."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.content.catalog import Button, load_catalog
from bot.content.faq_file import faq_path
from bot.content.validate import faq_pick_payload
from console.workspace.faq_editor import EDITED_KEY, GENERAL, FaqEditor, draft_key


@pytest.fixture
def editor(redis_client, clock, project: Path) -> FaqEditor:
    return FaqEditor(redis_client, project, clock)


def save_with(editor: FaqEditor, key: str, lead: str = "lucia", **changes):
    form = editor.load(key)
    for name, value in changes.items():
        part, lang = name.split("_", 1)
        getattr(form, part)[lang] = value
    return editor.save(form, lead)


def only_field(outcome, field: str, words: str) -> None:
    assert outcome.status == "draft", outcome
    assert list(outcome.problems) == [field], outcome.problems
    assert any(words in message for message in outcome.problems[field]), outcome.problems


def test_an_example_another_faq_has_is_an_error_on_that_languages_examples(editor):
    outcome = save_with(editor, "returns", examples_en=editor.load("returns").examples["en"] + ["where is my order"])
    only_field(outcome, "examples.en", "the same as 'where is my order' (faq/order_tracking")


def test_a_near_duplicate_typo_is_an_error_on_the_examples(editor):
    outcome = save_with(editor, "returns", examples_en=editor.load("returns").examples["en"] + ["where is my ordr"])
    only_field(outcome, "examples.en", "nearly the same as")


def test_no_examples_in_a_language_is_an_error_on_that_language(editor):
    only_field(save_with(editor, "returns", examples_es=[]), "examples.es", "no es examples")


def test_too_few_examples_is_an_error_on_the_examples(editor):
    only_field(save_with(editor, "returns", examples_en=[f"return question {i}" for i in range(5)]),
               "examples.en", "only 5 en examples (minimum 10)")


def test_an_empty_answer_is_an_error_on_the_answer(editor):
    only_field(save_with(editor, "returns", answers_es=""), "answer.es", "text is empty")


def test_a_new_faq_without_an_english_answer_is_an_error_on_the_english_answer(editor):
    form = editor.load("returns")
    form.key, form.version = "returns_copy", "absent"
    form.examples = {lang: [f"copy {lang} question {i}" for i in range(10)] for lang in ("es", "en")}
    form.answers = {"es": "Respuesta.", "en": ""}
    outcome = editor.save(form, "lucia")
    only_field(outcome, "answer.en", "no en answer")
    assert not faq_path(editor.root, "returns_copy").exists()


def test_an_answer_too_long_for_whatsapp_is_an_error_on_the_answer(editor):
    outcome = save_with(editor, "returns", answers_en="x" * 1100)
    assert outcome.status == "draft" and list(outcome.problems) == ["answer.en"]
    assert "en answer is 1100 characters (max 1024)" in outcome.problems["answer.en"]


def test_whatsapp_button_limits_are_errors_on_the_buttons(editor):
    target = faq_pick_payload("order_tracking")
    only_field(save_with(editor, "returns", buttons_en=[Button("Track my order right now", target)]),
               "buttons.en", "reply button 1 title is 24 characters, limit 20")
    only_field(save_with(editor, "returns", buttons_es=[Button(f"Opción {i}", f"/x{i}") for i in range(11)]),
               "buttons.es", "11 buttons; WhatsApp shows at most 10")


def test_a_button_to_an_faq_that_does_not_exist_is_an_error_on_the_buttons(editor):
    only_field(save_with(editor, "returns", buttons_es=[Button("Regalos", faq_pick_payload("gift_wrap"))]),
               "buttons.es", "picks unknown FAQ 'gift_wrap'")


def test_a_save_with_errors_is_a_draft_in_redis_and_leaves_the_file_alone(editor, redis_client):
    path = faq_path(editor.root, "returns")
    before = path.read_bytes()
    outcome = save_with(editor, "returns", examples_es=[])
    assert outcome.status == "draft"
    assert path.read_bytes() == before
    assert redis_client.exists(draft_key("returns", "lucia"))
    draft = editor.draft("returns", "lucia")
    assert draft.form.examples["es"] == [] and "examples.es" in draft.problems
    assert editor.draft("returns", "maria") is None
    assert editor.drafts_of("returns") == ["lucia"]
    assert editor.last_edited("returns") is None


def test_a_clean_save_writes_the_file_records_who_and_clears_the_draft(editor, clock):
    save_with(editor, "returns", examples_es=[])
    outcome = save_with(editor, "returns", answers_en="You have *30 days* to return.")
    assert outcome.status == "written", outcome.problems
    assert load_catalog(editor.root / "data" / "faq").get("returns").answer("en") == "You have *30 days* to return."
    assert editor.draft("returns", "lucia") is None
    edit = editor.last_edited("returns")
    assert edit.by == "lucia" and edit.at == clock.now()


def test_problems_elsewhere_that_the_save_did_not_cause_do_not_block_it(editor):
    path = faq_path(editor.root, "jobs")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  examples: |\n", "  examples: |\n    - where is my order\n", 1), encoding="utf-8")
    assert save_with(editor, "returns", answers_en="Returns: 30 days.").status == "written"


def test_a_second_lead_saving_a_stale_edit_sees_both_and_saves_the_merge(editor):
    lucia = editor.load("returns")
    marta = editor.load("returns")
    lucia.answers["en"] = "Lucia's answer."
    assert editor.save(lucia, "lucia").status == "written"
    marta.examples["en"] = marta.examples["en"] + ["can i return socks"]
    outcome = editor.save(marta, "marta")
    assert outcome.status == "conflict"
    assert outcome.theirs.answers["en"] == "Lucia's answer."
    assert outcome.form.examples["en"][-1] == "can i return socks"
    assert outcome.form.version == outcome.theirs.version  # the merge is saved against what is on disk now
    assert outcome.form.differs(outcome.theirs) == {"examples.en", "answer.en"}
    merged = outcome.form
    merged.answers["en"] = outcome.theirs.answers["en"]
    assert editor.save(merged, "marta").status == "written"
    faq = load_catalog(editor.root / "data" / "faq").get("returns")
    assert faq.answer("en") == "Lucia's answer." and "can i return socks" in faq.examples["en"]
    assert editor.last_edited("returns").by == "marta"


def test_deleting_an_faq_the_main_menu_names_is_refused(editor):
    outcome = editor.delete("opening_hours", editor.load("opening_hours").version)
    assert outcome.status == "refused"
    assert any("picks unknown FAQ 'opening_hours'" in m for m in outcome.problems[GENERAL])
    assert faq_path(editor.root, "opening_hours").exists()


def test_deleting_an_unreferenced_faq_removes_its_file(editor, redis_client):
    save_with(editor, "jobs", answers_en="We are hiring.")
    assert editor.delete("jobs", editor.load("jobs").version).status == "written"
    assert not faq_path(editor.root, "jobs").exists()
    assert redis_client.hget(EDITED_KEY, "jobs") is None


def test_renaming_keeps_the_content_and_a_menu_named_faq_cannot_be_renamed(editor):
    refused = editor.rename("returns", "returns_policy", editor.load("returns").version, "lucia")
    assert refused.status == "refused" and any("'returns'" in m for m in refused.problems[GENERAL])
    before = editor.load("jobs")
    outcome = editor.rename("jobs", "careers", before.version, "lucia")
    assert outcome.status == "written", outcome.problems
    assert not faq_path(editor.root, "jobs").exists()
    after = editor.load("careers")
    assert (after.examples, after.answers) == (before.examples, before.answers)
    text = faq_path(editor.root, "careers").read_text(encoding="utf-8")
    assert "faq/careers" in text and "utter_faq/careers" in text and "faq/jobs" not in text
    assert editor.last_edited("careers").by == "lucia"


def test_the_list_searches_keys_examples_and_answers_and_has_a_topic(editor, clock):
    save_with(editor, "returns", answers_en="Returns are free within *30 days*.")
    by_key = {s.key: s for s in editor.summaries()}
    assert by_key["size_guide_shoes"].topic == "size"
    assert by_key["returns"].examples == {"es": 20, "en": 19}
    assert by_key["returns"].edited.by == "lucia"
    assert [s.key for s in editor.summaries("NO me gustaron los tenis")] == ["returns"]
    assert {s.key for s in editor.summaries(topic="size")} == {"size_guide_shoes", "size_guide_clothes"}
    assert "size" in editor.topics()
