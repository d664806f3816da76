"""How a moment is said to a customer, in Spanish or English ("mañana a las 10:00")."""
from __future__ import annotations

import datetime as dt


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
