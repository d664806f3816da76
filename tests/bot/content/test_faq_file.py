"""bot.content.faq_file: the round-trip keeps every byte it was not asked to change, and saves never lose an edit."""
from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from bot.content.catalog import Button, load_file
from bot.content.faq_file import ABSENT, Conflict, FaqFile, add_example, faq_path

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted((ROOT / "data" / "faq").glob("*.yml"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the shipped FAQs: tests never write into the repository's data/."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_untouched_load_and_save_gives_back_the_same_bytes(project: Path, path: Path) -> None:
    faq = FaqFile.load(project, path.stem)
    faq.save()
    assert faq_path(project, path.stem).read_bytes() == path.read_bytes()


def test_editing_one_example_changes_only_that_line(project: Path) -> None:
    before = faq_path(project, "returns").read_text(encoding="utf-8")
    faq = FaqFile.load(project, "returns")
    examples = faq.examples("en")
    faq.set_examples("en", [("return label please" if t == "return label" else t) for t in examples])
    faq.save()
    after = faq_path(project, "returns").read_text(encoding="utf-8")
    assert changed_lines(before, after) == ["-    - return label", "+    - return label please"]


def test_editing_an_answer_with_emoji_and_newlines_changes_only_its_line(project: Path) -> None:
    before = faq_path(project, "opening_hours").read_text(encoding="utf-8")
    faq = FaqFile.load(project, "opening_hours")
    faq.set_answer("en", "🕙 *Hours*\n• Mon: 10–20 \"sharp\"")
    faq.save()
    after = faq_path(project, "opening_hours").read_text(encoding="utf-8")
    assert changed_lines(before, after)[1] == '+    text: "🕙 *Hours*\\n• Mon: 10–20 \\"sharp\\""'
    assert len(changed_lines(before, after)) == 2
    assert FaqFile.load(project, "opening_hours").answer("en") == "🕙 *Hours*\n• Mon: 10–20 \"sharp\""


def test_buttons_and_offer_agent_add_only_their_lines_and_removing_them_restores_the_file(project: Path) -> None:
    original = faq_path(project, "returns").read_text(encoding="utf-8")
    faq = FaqFile.load(project, "returns")
    faq.offer_agent = True
    faq.set_buttons("es", [Button("Rastrear pedido", '/faq_pick{{"faq_key":"order_tracking"}}')])
    faq.save()
    edited = faq_path(project, "returns").read_text(encoding="utf-8")
    assert [line for line in changed_lines(original, edited)] == [
        "+    offer_agent: true",
        "+    buttons:",
        '+    - title: "Rastrear pedido"',
        "+      payload: '/faq_pick{{\"faq_key\":\"order_tracking\"}}'",
    ]
    parsed = load_file(faq_path(project, "returns"))[0]
    assert parsed.offer_agent and parsed.answers["es"][0].buttons[0].title == "Rastrear pedido"
    faq.offer_agent = False
    faq.set_buttons("es", [])
    faq.save()
    assert faq_path(project, "returns").read_text(encoding="utf-8") == original


def test_a_comment_survives_an_edit(project: Path) -> None:
    path = faq_path(project, "returns")
    path.write_text(path.read_text(encoding="utf-8").replace(
        "responses:\n", "# answers reviewed by legal, 2026-11\nresponses:\n"), encoding="utf-8")
    faq = FaqFile.load(project, "returns")
    faq.set_answer("en", "New answer.")
    faq.save()
    assert "# answers reviewed by legal, 2026-11\nresponses:\n" in path.read_text(encoding="utf-8")


def test_a_save_from_a_stale_read_raises_conflict_with_both_versions(project: Path) -> None:
    mine = FaqFile.load(project, "returns")
    theirs = FaqFile.load(project, "returns")
    theirs.set_answer("en", "Their answer.")
    their_version = theirs.save()
    mine.set_answer("en", "My answer.")
    with pytest.raises(Conflict) as caught:
        mine.save()
    assert caught.value.expected == mine.version != their_version == caught.value.current
    assert 'text: "Their answer."' in caught.value.theirs
    assert FaqFile.load(project, "returns").answer("en") == "Their answer."


def test_add_example_appends_once_and_makes_earlier_reads_stale(project: Path) -> None:
    before = faq_path(project, "returns").read_text(encoding="utf-8")
    reader = FaqFile.load(project, "returns")
    version = add_example(project, "returns", "es", "me devuelven el dinero?")
    assert add_example(project, "returns", "es", "me devuelven el dinero?") == version
    after = faq_path(project, "returns").read_text(encoding="utf-8")
    assert changed_lines(before, after) == ["+    - me devuelven el dinero?"]
    with pytest.raises(Conflict):
        reader.save()


def test_a_new_faq_is_written_in_the_shipped_layout_and_cannot_overwrite_an_existing_one(project: Path) -> None:
    faq = FaqFile.new(project, "gift_wrap")
    assert faq.version == ABSENT
    faq.set_examples("es", ["envuelven para regalo"])
    faq.set_examples("en", ["gift wrapping"])
    faq.set_answer("es", "Sí, gratis.")
    faq.set_answer("en", "Yes, free.")
    faq.save()
    text = faq_path(project, "gift_wrap").read_text(encoding="utf-8")
    shipped = faq_path(project, "jobs").read_text(encoding="utf-8")
    assert text.splitlines()[:6] == shipped.replace("jobs", "gift_wrap").splitlines()[:6]
    assert text.endswith('    text: "Yes, free."\n  - text: "Sí, gratis."\n')
    with pytest.raises(Conflict):
        FaqFile.new(project, "returns").save()


def test_keys_that_could_leave_the_faq_directory_are_refused(project: Path) -> None:
    with pytest.raises(ValueError):
        faq_path(project, "../domain")
