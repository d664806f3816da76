"""The editor's checks: the bot's parser, with each error next to the field it is about."""
from __future__ import annotations

import pytest

from console.workspace.hours_file import HoursDocument
from console.workspace.hours_form import SpecialRow


@pytest.fixture
def form(hours_path):
    return HoursDocument(hours_path).read().form()


def test_the_shipped_hours_are_valid(form):
    assert form.validate() is not None
    assert form.errors == {}


@pytest.mark.parametrize("edit, field, message", [
    (lambda f: setattr(f, "timezone", "Mars/Olympus"), "timezone", "unknown time zone 'Mars/Olympus'"),
    (lambda f: setattr(f, "timezone", ""), "timezone", "timezone is required"),
    (lambda f: f.days.update(monday="10:00-14:00, 13:00-18:00"), "day-monday", "overlap"),
    (lambda f: f.days.update(friday="22:00-25:00"), "day-friday", "bad time 25:00"),
    (lambda f: f.days.update(sunday="10-14"), "day-sunday", 'expected "HH:MM-HH:MM"'),
    (lambda f: f.days.update(tuesday="10:00-10:00"), "day-tuesday", "ends when it starts"),
    (lambda f: f.special.append(SpecialRow("2026-02-30", "x", "closed")), "special-4", "bad date"),
    (lambda f: f.special.append(SpecialRow("", "Sin fecha", "closed")), "special-4", "give the date"),
    (lambda f: f.special.append(SpecialRow("2026-12-25", "Otra vez", "closed")), "special-4", "already listed"),
    (lambda f: f.special.append(SpecialRow("12-12", "", "9:00-25:00")), "special-4", "bad time 25:00"),
])
def test_each_error_is_reported_on_its_field_only(form, edit, field, message):
    edit(form)
    assert form.validate() is None
    assert list(form.errors) == [field]
    assert message in form.errors[field]


def test_overnight_and_several_shifts_a_day_are_accepted(form):
    form.days["saturday"] = "10:00-14:00, 16:00-20:00, 23:00-03:00"
    form.days["sunday"] = "cerrado"
    hours = form.validate()
    assert hours is not None and [str(rule) for rule in hours.weekly[5]] == ["10:00-14:00", "16:00-20:00", "23:00-03:00"]
    assert hours.weekly[6] == ()
