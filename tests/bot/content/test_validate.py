"""bot.content.validate: each check on a small deliberately broken project, and the shipped data passing all."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content import rasa_check, validate
from bot.content.catalog import load_catalog
from bot.content.problems import Problem

ROOT = Path(__file__).resolve().parents[3]



def faq_content(key: str, es: list[str] | None = None, en: list[str] | None = None,
                answer_es: str | None = "Respuesta.", answer_en: str | None = "Answer.") -> dict[str, Any]:
    """One data/faq/<key>.yml in the shipped format; None leaves that part out."""
    nlu = [
        {"intent": f"faq/{key}", "metadata": {"language": language},
         "examples": "".join(f"- {text}\n" for text in examples)}
        for language, examples in (("es", es), ("en", en)) if examples is not None
    ]
    variations = []
    if answer_en is not None:
        variations.append({"condition": [{"type": "slot", "name": "language", "value": "en"}], "text": answer_en})
    if answer_es is not None:
        variations.append({"text": answer_es})
    content: dict[str, Any] = {"version": "3.1", "nlu": nlu}
    if variations:
        content["responses"] = {f"utter_faq/{key}": variations}
    return content


def examples(key: str, language: str, n: int = 10) -> list[str]:
    """Filler examples no other FAQ shares, so the duplicate check stays quiet unless a test wants it."""
    return [f"{key} {language} {i}" for i in range(n)]


def good_faq(key: str, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"es": examples(key, "es"), "en": examples(key, "en")}
    args.update(overrides)
    return faq_content(key, **args)


def make_project(tmp_path: Path, faqs: dict[str, dict[str, Any]], domain: dict[str, Any] | None = None,
                 extra: dict[str, dict[str, Any]] | None = None) -> Path:
    (tmp_path / "data" / "faq").mkdir(parents=True)
    for name, content in faqs.items():
        (tmp_path / "data" / "faq" / f"{name}.yml").write_text(yaml.safe_dump(content, allow_unicode=True))
    for relative_path, content in (extra or {}).items():
        path = tmp_path / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(content, allow_unicode=True))
    (tmp_path / "domain.yml").write_text(yaml.safe_dump(domain or {"version": "3.1"}, allow_unicode=True))
    return tmp_path


def sources(root: Path) -> list[validate.Source]:
    return validate.load_sources(root)


def catalog(root: Path):
    return load_catalog(root / "data" / "faq")


def messages(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


# --- near duplicates -------------------------------------------------------------------------


def test_identical_example_after_normalising_under_two_faqs(tmp_path):
    root = make_project(tmp_path, {
        "shipping_cost": good_faq("shipping_cost", es=examples("a", "es", 9) + ["¿Cuánto cuesta el ENVÍO?"]),
        "shipping_time": good_faq("shipping_time", es=examples("b", "es", 9) + ["cuanto cuesta  el envio"]),
    })
    problems = validate.check_near_duplicates(sources(root), root)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.faq == "shipping_cost" and problem.file == "data/faq/shipping_cost.yml"
    assert "faq/shipping_time" in problem.message and "the same as" in problem.message


def test_same_words_in_another_order_are_near_duplicates(tmp_path):
    root = make_project(tmp_path, {
        "a": good_faq("a", en=examples("a", "en", 9) + ["shipping cost cdmx"]),
        "b": good_faq("b", en=examples("b", "en", 9) + ["cdmx shipping cost"]),
    })
    assert "nearly the same" in messages(validate.check_near_duplicates(sources(root), root))


def test_one_letter_typo_in_a_long_example_is_a_near_duplicate(tmp_path):
    root = make_project(tmp_path, {
        "a": good_faq("a", es=examples("a", "es", 9) + ["cuanto tiempo tarda en llegar mi paquete"]),
        "b": good_faq("b", es=examples("b", "es", 9) + ["cuanto tiempo tarda en llegar mi paquet"]),
    })
    assert len(validate.check_near_duplicates(sources(root), root)) == 1


def test_different_questions_sharing_words_are_not_duplicates(tmp_path):
    root = make_project(tmp_path, {
        "a": good_faq("a", es=examples("a", "es", 9) + ["cuanto cuesta el envio"], en=examples("a", "es")),
        "b": good_faq("b", es=examples("b", "es", 9) + ["cuanto tarda el envio"]),
    })
    # Also: the same examples under one FAQ in both languages are not a cross-FAQ duplicate.
    assert validate.check_near_duplicates(sources(root), root) == []


def test_duplicate_between_a_core_intent_and_an_faq(tmp_path):
    core = {"version": "3.1", "nlu": [{"intent": "human_handoff", "metadata": {"language": "es"},
                                      "examples": "- hablar con un asesor\n"}]}
    root = make_project(tmp_path, {"contact": good_faq("contact", es=examples("c", "es", 9) + ["Hablar con un asesor!"])},
                        extra={"data/nlu/core.yml": core})
    problems = validate.check_near_duplicates(sources(root), root)
    assert len(problems) == 1 and "human_handoff" in problems[0].message


# --- FAQ structure ---------------------------------------------------------------------------


def test_faq_examples_without_an_answer(tmp_path):
    root = make_project(tmp_path, {"gift_cards": good_faq("gift_cards", answer_es=None, answer_en=None)})
    problems = validate.check_faq_pairs(sources(root), root)
    assert [(p.file, p.faq) for p in problems] == [("data/faq/gift_cards.yml", "gift_cards")]
    assert "no utter_faq/gift_cards" in problems[0].message


def test_answer_without_faq_examples(tmp_path):
    domain = {"version": "3.1", "responses": {"utter_faq/orphan": [{"text": "Hola"}]}}
    root = make_project(tmp_path, {"jobs": good_faq("jobs")}, domain=domain)
    problems = validate.check_faq_pairs(sources(root), root)
    assert [(p.file, p.faq) for p in problems] == [("domain.yml", "orphan")]
    assert "no faq/orphan examples" in problems[0].message


def test_faq_missing_a_language(tmp_path):
    root = make_project(tmp_path, {
        "no_en_examples": good_faq("no_en_examples", en=None),
        "no_en_answer": good_faq("no_en_answer", answer_en=None),
    })
    found = {(p.faq, p.message) for p in validate.check_languages(catalog(root), root)}
    assert found == {("no_en_examples", "no en examples"), ("no_en_answer", "no en answer")}


def test_examples_block_without_language_tag(tmp_path):
    content = good_faq("untagged")
    del content["nlu"][1]["metadata"]
    root = make_project(tmp_path, {"untagged": content})
    text = messages(validate.check_languages(catalog(root), root))
    assert "no en examples" in text and "metadata.language '?'" in text


def test_too_few_examples_per_language(tmp_path):
    root = make_project(tmp_path, {"thin": good_faq("thin", es=examples("thin", "es", 9))})
    problems = validate.check_example_counts(catalog(root), root)
    assert [(p.faq, p.message) for p in problems] == [("thin", "only 9 es examples (minimum 10)")]


def test_faq_in_a_file_named_after_another_key(tmp_path):
    root = make_project(tmp_path, {"returns": good_faq("refunds")})
    problems = validate.check_file_layout(catalog(root), root)
    assert [(p.file, p.faq) for p in problems] == [("data/faq/returns.yml", "refunds")]


# --- responses -------------------------------------------------------------------------------

def buttons(n: int, title: str = "Opción") -> list[dict[str, str]]:
    return [{"title": f"{title} {i}", "payload": f"/main_menu{i}"} for i in range(n)]


@pytest.mark.parametrize("variation, what", [
    ({"text": "x" * 1025, "buttons": buttons(2)}, "body over 1024 with buttons"),
    ({"text": "Menú", "buttons": buttons(3, "Un título demasiado largo")}, "reply button title over 20"),
    ({"text": "Menú", "buttons": buttons(5, "Una fila con título muy largo")}, "list row title over 24"),
    ({"text": "Menú", "buttons": buttons(11)}, "more than 10 buttons"),
])
def test_response_over_whatsapp_limits(tmp_path, variation, what):
    domain = {"version": "3.1", "responses": {"utter_main_menu": [variation]}}
    root = make_project(tmp_path, {}, domain=domain)
    problems = validate.check_response_limits(sources(root), root, )
    assert problems, what
    assert all(p.file == "domain.yml" and p.faq == "utter_main_menu" for p in problems)


def test_faq_answer_in_a_data_file_is_checked_too(tmp_path):
    content = good_faq("long")
    content["responses"]["utter_faq/long"][0]["buttons"] = buttons(2, "Un título demasiado largo")
    root = make_project(tmp_path, {"long": content})
    problems = validate.check_response_limits(sources(root), root, )
    assert [(p.file, p.faq) for p in problems] == [("data/faq/long.yml", "long")] * 2


def test_faq_answer_longer_than_an_interactive_body(tmp_path):
    root = make_project(tmp_path, {"long": good_faq("long", answer_en="x" * 1025), "ok": good_faq("ok", answer_es="x" * 1024)})
    problems = validate.check_answer_length(catalog(root), root)
    assert [(p.faq, p.message) for p in problems] == [("long", "en answer is 1025 characters (max 1024)")]


def test_responses_within_limits_pass(tmp_path):
    domain = {"version": "3.1", "responses": {
        "utter_anything_else": [{"text": "¿Algo más?", "buttons": buttons(3, "Sí")}],
        "utter_main_menu": [{"text": "Menú", "buttons": buttons(10, "Tema")}],
    }}
    root = make_project(tmp_path, {"ok": good_faq("ok")}, domain=domain)
    assert validate.check_response_limits(sources(root), root, ) == []


def test_menu_row_picking_an_faq_that_does_not_exist(tmp_path):
    domain = {"version": "3.1", "responses": {"utter_main_menu": [{"text": "Menú", "buttons": [
        {"title": "Envíos", "payload": '/faq_pick{{"faq_key":"shipping_cost"}}'},
        {"title": "Viejo", "payload": '/faq_pick{{"faq_key":"deleted_faq"}}'},
        {"title": "Persona", "payload": "/human_handoff"},
    ]}]}}
    root = make_project(tmp_path, {"shipping_cost": good_faq("shipping_cost")}, domain=domain)
    problems = validate.check_button_targets(sources(root), catalog(root), root)
    assert len(problems) == 1 and "'deleted_faq'" in problems[0].message and "Viejo" in problems[0].message


def test_menu_row_with_single_braces_is_flagged(tmp_path):
    # Rasa reads {...} in a response as a slot template and logs an error for every such button.
    domain = {"version": "3.1", "responses": {"utter_main_menu": [{"text": "Menú", "buttons": [
        {"title": "Envíos", "payload": '/faq_pick{"faq_key":"shipping_cost"}'},
    ]}]}}
    root = make_project(tmp_path, {"shipping_cost": good_faq("shipping_cost")}, domain=domain)
    (problem,) = validate.check_button_targets(sources(root), catalog(root), root)
    assert "slot template" in problem.message


# --- rasa data validate ----------------------------------------------------------------------

RASA_OUTPUT = """\
\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: The following duplicated intents have been found across multiple domain files: faq
The following duplicated actions have been found across multiple domain files: utter_faq
  More info at https://rasa.com/docs/rasa/domain
\x1b[0m2026-01-05 12:00:00 INFO     rasa.validator  - Validating intents...
\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: The intent 'faq_pick' is listed in the domain file, but is not found in the NLU training data.
\x1b[0m2026-01-05 12:00:00 INFO     rasa.validator  - Validating utterances...
"""


def test_rasa_expected_warnings_are_not_problems():
    assert rasa_check.parse_rasa_output(RASA_OUTPUT, 0) == []


def test_rasa_other_warnings_and_failures_are_problems():
    output = RASA_OUTPUT + (
        "\x1b[93m/x/io.py:100: UserWarning: Issue found in 'data/rules.yml':\n"
        "Found intent 'gret' in stories which is not part of the domain.\n"
        "  More info at https://rasa.com/docs/rasa/stories\n"
        "2026-01-05 12:00:00 ERROR    rasa.validator  - The action 'utter_x' is used but not listed.\n"
    )
    problems = rasa_check.parse_rasa_output(output, 1)
    assert len(problems) == 2
    assert "'gret'" in problems[0].message
    assert "exit 1" in problems[1].message and "utter_x" in problems[1].message


def test_rasa_duplicate_of_a_non_retrieval_name_is_a_problem():
    output = ("UserWarning: The following duplicated intents have been found across multiple domain files: faq\n"
              "The following duplicated actions have been found across multiple domain files: utter_faq, utter_greet\n")
    assert len(rasa_check.parse_rasa_output(output, 0)) == 1


# --- the whole thing -------------------------------------------------------------------------


def test_main_reports_file_and_faq_and_exits_1(tmp_path, capsys):
    root = make_project(tmp_path, {"thin": good_faq("thin", en=examples("thin", "en", 3))})
    assert validate.main(["--root", str(root), "--no-rasa"]) == 1
    assert "data/faq/thin.yml: [thin] only 3 en examples" in capsys.readouterr().out


def test_main_passes_a_clean_project(tmp_path, capsys):
    root = make_project(tmp_path, {"a": good_faq("a"), "b": good_faq("b")})
    assert validate.main(["--root", str(root), "--no-rasa"]) == 0
    assert "OK: 2 FAQs" in capsys.readouterr().out


def test_shipped_data_passes_every_check_including_rasa():
    problems = validate.run_checks(ROOT, with_rasa=True)
    assert problems == [], messages(problems)


def test_action_sending_an_undefined_response_is_reported(tmp_path):
    from bot.content.rasa_check import check_action_responses
    from bot.content.validate import load_sources

    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "x.py").write_text('dispatcher.utter_message(response="utter_missing")\n')
    (tmp_path / "domain.yml").write_text('version: "3.1"\nresponses:\n  utter_there:\n  - text: hi\n')
    problems = check_action_responses(load_sources(tmp_path), tmp_path)
    assert [p.message for p in problems] == ["an action sends 'utter_missing', which no domain or data file defines"]


def test_rasa_unused_warning_is_expected_only_for_responses_actions_send():
    from bot.content.rasa_check import expected_warning_line

    line = "The utterance 'utter_open_now' is not used in any story or rule."
    assert expected_warning_line(line, frozenset({"utter_open_now"}))
    assert not expected_warning_line(line, frozenset())
