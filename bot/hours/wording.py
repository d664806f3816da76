"""How a moment and the schedule are said to a customer, in Spanish or English ("mañana a las 10:00")."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # schedule.py imports this module
    from bot.hours.schedule import BusinessHours


_ES_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ES_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


def describe_instant(when: dt.datetime, now: dt.datetime, language: str, tz: dt.tzinfo) -> str:
    """Relative day + time of ``when`` as seen from ``now`` by someone living in ``tz``."""
    local, today = when.astimezone(tz), now.astimezone(tz).date()
    days = (local.date() - today).days
    en = _is_en(language)
    if en:
        hour12 = local.hour % 12 or 12
        clock = f"{hour12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
        if days == 0:
            return f"today at {clock}"
        if days == 1:
            return f"tomorrow at {clock}"
        name = _EN_DAYS[local.weekday()]
        if days < 7:
            return f"on {name} at {clock}"
        return f"on {name}, {_EN_MONTHS[local.month - 1]} {local.day} at {clock}"
    # "a la una", "a las dos…": Spanish agrees the article with the hour.
    clock = f"{'a la' if local.hour == 1 else 'a las'} {local.hour}:{local.minute:02d}"
    if days == 0:
        return f"hoy {clock}"
    if days == 1:
        return f"mañana {clock}"
    name = _ES_DAYS[local.weekday()]
    if days < 7:
        return f"el {name} {clock}"
    return f"el {name} {local.day} de {_ES_MONTHS[local.month - 1]} {clock}"


# ---- parsing helpers ----------------------------------------------------------------------


def _is_en(language: str | None) -> bool:
    return (language or "es").lower().startswith("en")


# ---- the schedule in words (the opening-hours answer) -------------------------------------

# Special dates this close ahead are listed in the opening-hours answer.
UPCOMING_DAYS = 30


def answer_values(hours: "BusinessHours", now: dt.datetime, language: str) -> dict[str, str]:
    """The template variables an FAQ answer may use, e.g. ``{hours_week}`` in utter_faq/opening_hours.

    ``hours_week``: one "• Lunes a jueves: 10:00–14:00 y 16:00–20:00" line per run of days with
    the same shifts. ``hours_special``: the special dates of the next UPCOMING_DAYS days under a
    heading, starting with a blank line; empty when there are none, so the answer needs no
    "none coming up" sentence.
    """
    return {"hours_week": weekly_lines(hours, language),
            "hours_special": upcoming_special(hours, now, language)}


def weekly_lines(hours: "BusinessHours", language: str) -> str:
    en = _is_en(language)
    days = _EN_DAYS if en else _ES_DAYS
    runs: list[list[int]] = []
    for weekday in range(7):
        if runs and hours.weekly[runs[-1][-1]] == hours.weekly[weekday]:
            runs[-1].append(weekday)
        else:
            runs.append([weekday])
    lines = []
    for run in runs:
        first, last = days[run[0]], days[run[-1]]
        if len(run) == 1:
            label = first
        elif len(run) == 2:
            label = f"{first} and {last}" if en else f"{first} y {last}"
        else:
            label = f"{first} to {last}" if en else f"{first} a {last}"
        lines.append(f"• {label[0].upper()}{label[1:]}: {shifts_words(hours.weekly[run[0]], language)}")
    return "\n".join(lines)


def upcoming_special(hours: "BusinessHours", now: dt.datetime, language: str) -> str:
    en = _is_en(language)
    today = now.astimezone(hours.tz).date()
    lines = []
    for offset in range(UPCOMING_DAYS + 1):
        day = today + dt.timedelta(days=offset)
        special = hours.special_on(day)
        if special is None:
            continue
        if en:
            date = f"{_EN_DAYS[day.weekday()]}, {_EN_MONTHS[day.month - 1]} {day.day}"
        else:
            date = f"{_ES_DAYS[day.weekday()].capitalize()} {day.day} de {_ES_MONTHS[day.month - 1]}"
        name = f" ({special.name})" if special.name else ""
        lines.append(f"• {date}{name}: {shifts_words(special.rules, language)}")
    if not lines:
        return ""
    heading = "*Special dates*" if en else "*Fechas especiales*"
    return "\n\n" + heading + "\n" + "\n".join(lines)


def shifts_words(rules, language: str) -> str:
    """"10:00–14:00 y 16:00–20:00", or "cerrado" / "closed" for none."""
    en = _is_en(language)
    if not rules:
        return "closed" if en else "cerrado"
    spans = [str(rule).replace("-", "–") for rule in rules]
    if len(spans) == 1:
        return spans[0]
    return ", ".join(spans[:-1]) + (" and " if en else " y ") + spans[-1]
