"""business_profile.yml + hours.yml → the profile's fields: the hours in the description are the
bot's own opening-hours wording, and every problem is reported against WhatsApp's limits."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.content.catalog import ROOT, read_yaml
from bot.hours import BusinessHours
from bot.hours.replies import render
from bot.hours.wording import answer_values
from bot.profile.compose import ProfileError, ProfileFile, compose

NOW = dt.datetime(2026, 3, 2, 18, tzinfo=dt.timezone.utc)
FILE = ("about: Zapatos\ndescription: \"Horario:\\n{hours_week}\"\nemail: hola@alba.example\n"
        "websites: https://alba.example\nvertical: APPAREL\nlanguage: es\n")


def profile(tmp_path, text: str = FILE) -> ProfileFile:
    path = tmp_path / "business_profile.yml"
    path.write_text(text, encoding="utf-8")
    return ProfileFile.load(path)


def bot_answer(hours: BusinessHours, language: str) -> str:
    """The opening-hours answer exactly as the bot sends it (actions/faq.py's values)."""
    responses = read_yaml(ROOT / "data" / "faq" / "opening_hours.yml")["responses"]
    return render("utter_faq/opening_hours", language, answer_values(hours, NOW, language), responses)


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_profile_states_the_hours_the_bot_states(tmp_path, language):
    hours = BusinessHours.from_dict({"timezone": "America/Mexico_City", "weekly": {
        "monday": ["09:00-13:00", "15:00-19:00"], "tuesday": ["09:00-13:00", "15:00-19:00"],
        "friday": ["22:00-02:00"], "saturday": ["10:00-14:00"]}})
    fields = compose(profile(tmp_path, FILE.replace("language: es", f"language: {language}")), hours)
    profile_hours = fields["description"].removeprefix("Horario:\n")
    assert profile_hours.splitlines() and profile_hours in bot_answer(hours, language)
    assert ("Lunes y martes: 09:00–13:00 y 15:00–19:00" if language == "es"
            else "Monday and Tuesday: 09:00–13:00 and 15:00–19:00") in profile_hours
    assert fields["websites"] == ["https://alba.example"]  # one site may be written without a list


def test_the_repository_profile_is_within_whatsapp_s_limits():
    fields = compose(ProfileFile.load(), BusinessHours.from_file())
    assert fields["description"].count("•") == len(answer_values(BusinessHours.from_file(), NOW, "es")
                                                   ["hours_week"].splitlines())


def test_every_problem_is_reported_at_once_with_the_file_name(tmp_path):
    text = ("about: \"" + "a" * 140 + "\"\ndescription: \"Sin horario {phone}\"\nemail: nope\n"
            "vertical: SHOES\nlanguage: fr\ncolour: red\n")
    with pytest.raises(ProfileError) as caught:
        compose(profile(tmp_path, text), BusinessHours.from_file())
    problems = caught.value.problems
    assert all(p.startswith("business_profile.yml: ") for p in problems)
    joined = "\n".join(problems)
    for expected in ("language 'fr'", "description must say {hours_week} once", "placeholder(s) {phone}",
                     "unknown field 'colour'", "about is 140 characters, limit 139",
                     "email 'nope' is not an email address", "vertical 'SHOES'"):
        assert expected in joined


def test_a_description_that_grows_past_512_with_the_hours_is_refused(tmp_path):
    text = FILE.replace('"Horario:\\n{hours_week}"', '"' + "x" * 400 + '\\n{hours_week}"')
    with pytest.raises(ProfileError, match="description is 5.. characters, limit 512"):
        compose(profile(tmp_path, text), BusinessHours.from_file())
    with pytest.raises(ProfileError, match="not found"):
        ProfileFile.load(tmp_path / "missing.yml")
