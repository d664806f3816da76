"""The hours editor's form: hours.yml as fields, checked field by field with the bot's own parser.

Each field is validated by giving BusinessHours.from_dict a schedule made of that field alone,
so an error lands next to the field it is about; then the whole edit is checked once more.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.hours import BusinessHours, HoursConfigError
from bot.hours.schedule import DAY_ALIASES

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOSED = "closed"
# Empty rows offered under the special dates, for adding new ones.
NEW_SPECIAL_ROWS = 3
# A zone for checking a field that is not the zone: any valid one will do.
_ANY_ZONE = "UTC"
_ANY_DATE = "2000-01-01"


@dataclass
class SpecialRow:
    date: str = ""
    name: str = ""
    hours: str = ""

    @property
    def blank(self) -> bool:
        return not (self.date.strip() or self.name.strip() or self.hours.strip())


@dataclass
class HoursForm:
    timezone: str
    days: dict[str, str]  # monday..sunday → "10:00-14:00, 16:00-20:00" or "closed"
    special: list[SpecialRow]
    errors: dict[str, str] = field(default_factory=dict)  # field name → message

    # ---- from the file and from the request ----------------------------------------------

    @classmethod
    def from_hours(cls, hours: BusinessHours, special_keys: list[str]) -> "HoursForm":
        """The form showing ``hours``; special dates in the file's order (its keys as written)."""
        days = {name: shifts_text(hours.weekly[DAY_ALIASES[name]]) for name in DAYS}
        rows = []
        for key in special_keys:
            day = _special_of(hours, key)
            rows.append(SpecialRow(key, day.name or "", shifts_text(day.rules)))
        return cls(timezone=hours.tz.key, days=days, special=rows)

    @classmethod
    def from_request(cls, form) -> "HoursForm":
        rows, i = [], 0
        while f"special-{i}-date" in form:
            rows.append(SpecialRow(form.get(f"special-{i}-date", "").strip(),
                                   form.get(f"special-{i}-name", "").strip(),
                                   form.get(f"special-{i}-hours", "").strip()))
            i += 1
        return cls(timezone=form.get("timezone", "").strip(),
                   days={name: form.get(f"day-{name}", "").strip() for name in DAYS},
                   special=[row for row in rows if not row.blank])

    def with_new_rows(self) -> list[SpecialRow]:
        return self.special + [SpecialRow() for _ in range(NEW_SPECIAL_ROWS)]

    # ---- as hours.yml data -----------------------------------------------------------------

    def day_value(self, name: str) -> Any:
        return shifts_value(self.days[name])

    def special_value(self, row: SpecialRow) -> dict[str, Any]:
        value: dict[str, Any] = {"hours": shifts_value(row.hours)}
        if row.name:
            value = {"name": row.name, **value}
        return value

    def data(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "weekly": {name: self.day_value(name) for name in DAYS},
            "special": {row.date: self.special_value(row) for row in self.special},
        }

    # ---- checks -----------------------------------------------------------------------------

    def validate(self) -> BusinessHours | None:
        """The edited schedule, or None with ``errors`` filled in per field."""
        self.errors = {}
        self._check("timezone", {"timezone": self.timezone})
        for name in DAYS:
            self._check(f"day-{name}", {"timezone": _ANY_ZONE, "weekly": {name: self.day_value(name)}})
        seen: dict[str, int] = {}
        for i, row in enumerate(self.special):
            where = f"special-{i}"
            if not row.date:
                self.errors[where] = "give the date (YYYY-MM-DD, or MM-DD for every year)"
                continue
            if row.date in seen:
                self.errors[where] = f"{row.date} is already listed above"
                continue
            seen[row.date] = i
            self._check(where, {"timezone": _ANY_ZONE, "special": {row.date: self.special_value(row)}})
        if self.errors:
            return None
        try:
            return BusinessHours.from_dict(self.data())
        except HoursConfigError as exc:  # a rule spanning fields; none today, but say it
            self.errors["form"] = str(exc)
            return None

    def _check(self, name: str, data: dict[str, Any]) -> None:
        try:
            BusinessHours.from_dict(data, source=name)
        except HoursConfigError as exc:
            self.errors[name] = str(exc).removeprefix(f"{name}: ")


def shifts_text(rules) -> str:
    return ", ".join(str(rule) for rule in rules) or CLOSED


def shifts_value(text: str) -> list[str] | str:
    """"10:00-14:00, 16:00-20:00" → the list hours.yml holds; empty or "closed" → "closed"."""
    spans = [part.strip() for part in text.split(",") if part.strip()]
    if not spans or (len(spans) == 1 and spans[0].lower() in ("closed", "cerrado")):
        return CLOSED
    return spans


def _special_of(hours: BusinessHours, key: str):
    if len(key) == 5:  # MM-DD, every year
        return hours.yearly[(int(key[:2]), int(key[3:]))]
    return hours.dated[dt.date.fromisoformat(key)]


def same_day_rules(a: Any, b: Any) -> bool:
    """Whether two hours.yml day values mean the same shifts ("closed" == [] == missing)."""
    return _rules(a) == _rules(b)


def same_special(a: Any, b: Any) -> bool:
    return _special(a) == _special(b)


def _rules(value: Any):
    try:
        return BusinessHours.from_dict({"timezone": _ANY_ZONE, "weekly": {"monday": value}}).weekly[0]
    except HoursConfigError:
        return None


def _special(value: Any):
    try:
        hours = BusinessHours.from_dict({"timezone": _ANY_ZONE, "special": {_ANY_DATE: value}})
    except HoursConfigError:
        return None
    return hours.dated[dt.date.fromisoformat(_ANY_DATE)]


def merge(base: HoursForm, mine: HoursForm, theirs: HoursForm) -> HoursForm:
    """Theirs, with every field I changed since ``base`` taken from mine (special dates by date)."""
    def pick(a: str, b: str, t: str) -> str:
        return a if a != b else t

    base_rows = {row.date: row for row in base.special}
    my_rows = {row.date: row for row in mine.special}
    rows = []
    for row in theirs.special:
        if row.date in base_rows and row.date not in my_rows:
            continue  # I removed it
        mine_row = my_rows.get(row.date)
        rows.append(mine_row if mine_row is not None and mine_row != base_rows.get(row.date) else row)
    listed = {row.date for row in theirs.special}
    # Added or changed by me and not in theirs (a date they removed that I changed stays).
    rows += [row for row in mine.special if row.date not in listed and row != base_rows.get(row.date)]
    return HoursForm(timezone=pick(mine.timezone, base.timezone, theirs.timezone),
                     days={name: pick(mine.days[name], base.days[name], theirs.days[name]) for name in DAYS},
                     special=rows)
