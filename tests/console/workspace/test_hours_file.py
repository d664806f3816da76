"""hours.yml round-trip: an edit changes only its own lines; a stale save is refused."""
from __future__ import annotations

import difflib

import pytest

from bot.hours import BusinessHours
from console.workspace.hours_file import HoursDocument, StaleVersion, apply
from console.workspace.hours_form import SpecialRow


def changed_lines(before: str, after: str) -> list[str]:
    return [line.rstrip("\n") for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_an_unchanged_form_writes_the_file_back_byte_for_byte(hours_path):
    snapshot = HoursDocument(hours_path).read()
    assert apply(snapshot.text, snapshot.form()) == snapshot.text


def test_editing_one_day_changes_only_that_line_and_keeps_its_alignment(hours_path):
    snapshot = HoursDocument(hours_path).read()
    form = snapshot.form()
    form.days["friday"] = "10:00-14:00, 16:00-20:00, 22:00-03:00"
    assert changed_lines(snapshot.text, apply(snapshot.text, form)) == [
        '-  friday:    ["10:00-14:00", "16:00-20:00", "22:00-02:00"]',
        '+  friday:    ["10:00-14:00", "16:00-20:00", "22:00-03:00"]',
    ]


def test_special_dates_added_changed_and_removed_touch_only_their_lines(hours_path):
    snapshot = HoursDocument(hours_path).read()
    form = snapshot.form()
    form.special = [row for row in form.special if row.date != "2026-12-25"]
    form.special[0].hours = "10:00-14:00"
    form.special.append(SpecialRow("05-01", "Día del Trabajo", "closed"))
    assert changed_lines(snapshot.text, apply(snapshot.text, form)) == [
        '-  "2026-12-24": {name: Nochebuena, hours: ["10:00-15:00"]}',
        '-  "2026-12-25": {name: Navidad, hours: closed}',
        '+  "2026-12-24": {name: Nochebuena, hours: ["10:00-14:00"]}',
        '+  "05-01": {name: Día del Trabajo, hours: closed}',
    ]


def test_spanish_day_names_comments_and_a_missing_special_section_survive(tmp_path):
    path = tmp_path / "h.yml"
    path.write_text("# horario de prueba\ntimezone: Europe/Madrid\nweekly:\n"
                    "  lunes: ['09:00-14:00']  # mañana\n  martes: ['09:00-14:00']\n")
    document = HoursDocument(path)
    snapshot = document.read()
    form = snapshot.form()
    form.days["tuesday"] = "09:00-14:00, 17:00-20:00"
    form.days["saturday"] = "10:00-13:00"
    saved = document.save(form, snapshot)
    assert saved.text == ("# horario de prueba\ntimezone: Europe/Madrid\nweekly:\n"
                          "  lunes: ['09:00-14:00']  # mañana\n  martes: [\"09:00-14:00\", \"17:00-20:00\"]\n"
                          "  saturday: [\"10:00-13:00\"]\n")
    assert path.read_text() == saved.text
    assert BusinessHours.from_file(path).weekly[5] != ()


def test_a_save_from_a_stale_version_is_refused_and_shows_both(hours_path):
    document = HoursDocument(hours_path)
    opened = document.read()
    theirs = opened.form()
    theirs.days["saturday"] = "10:00-16:00"
    theirs.special = [row for row in theirs.special if row.date != "2027-01-01"]
    document.save(theirs, opened)
    after_theirs = hours_path.read_text()

    mine = opened.form()
    mine.days["sunday"] = "11:00-15:00"
    mine.special.append(SpecialRow("05-01", "Día del Trabajo", "closed"))
    with pytest.raises(StaleVersion) as refused:
        document.save(mine, opened)
    assert hours_path.read_text() == after_theirs
    assert refused.value.current.text == after_theirs
    # Offered instead: theirs with my changes on top; their edits are not undone.
    merged = refused.value.merged
    assert (merged.days["saturday"], merged.days["sunday"]) == ("10:00-16:00", "11:00-15:00")
    assert [row.date for row in merged.special] == ["2026-12-24", "2026-12-25", "2026-12-31", "05-01"]
    assert changed_lines(after_theirs, refused.value.merged_text) == [
        '-  sunday:    closed', '+  sunday:    ["11:00-15:00"]', '+  "05-01": {name: Día del Trabajo, hours: closed}']
    # Saving the merge against the current version goes through.
    document.save(merged, refused.value.current)
    assert hours_path.read_text() == refused.value.merged_text
