"""The schedule in words, as the opening-hours answer says it."""
from __future__ import annotations

import datetime as dt

from bot.hours import BusinessHours
from bot.hours.wording import answer_values

NOON = dt.datetime(2026, 3, 2, 18, tzinfo=dt.timezone.utc)  # Monday


def words(weekly, special=None, language="es", now=NOON):
    hours = BusinessHours.from_dict({"timezone": "America/Mexico_City", "weekly": weekly, "special": special or {}})
    return answer_values(hours, now, language)


def test_runs_of_equal_days_are_joined_and_unlisted_days_are_closed():
    values = words({"lunes": ["09:00-18:00"], "martes": ["09:00-18:00"], "miercoles": ["09:00-18:00"],
                    "jueves": ["09:00-13:00"], "viernes": ["09:00-13:00"], "sabado": ["22:00-02:00"]})
    assert values["hours_week"] == ("• Lunes a miércoles: 09:00–18:00\n• Jueves y viernes: 09:00–13:00\n"
                                    "• Sábado: 22:00–02:00\n• Domingo: cerrado")
    assert values["hours_special"] == ""


def test_english_and_a_whole_day():
    values = words({"sunday": ["00:00-24:00"]}, language="en")
    assert values["hours_week"] == "• Monday to Saturday: closed\n• Sunday: 00:00–24:00"


def test_special_dates_within_thirty_days_yearly_ones_included_in_date_order():
    special = {"03-21": {"name": "Natalicio de Benito Juárez", "hours": "closed"},
               "2026-03-10": ["10:00-12:00", "13:00-15:00"], "2026-04-20": "closed"}
    values = words({"monday": ["09:00-18:00"]}, special, language="es")
    assert values["hours_special"] == ("\n\n*Fechas especiales*\n• Martes 10 de marzo: 10:00–12:00 y 13:00–15:00\n"
                                       "• Sábado 21 de marzo (Natalicio de Benito Juárez): cerrado")
