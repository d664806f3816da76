"""Business hours: when the team answers and when it is back.

The schedule (hours.yml, path from BUSINESS_HOURS_FILE) is wall-clock time in one IANA zone.
Every comparison is done on UTC instants, because Python compares two datetimes that share a
tzinfo by their wall clock, which is wrong around a DST change.

Decisions, so the behaviour is predictable for whoever edits hours.yml:

* A shift belongs to the local date it starts on. A special date (holiday, special hours)
  replaces the shifts that *start* that day; the tail of the previous evening's overnight shift
  still runs. Closing Saturday therefore does not cut Friday 22:00-02:00 short; give Friday its
  own special entry for that.
* Intervals are half-open: open at the opening instant, closed at the closing instant.
* Wall times that do not exist (spring-forward gap) are read with the offset in force before the
  jump, i.e. 02:30 on that night means 03:30 new time; ambiguous times (fall-back) mean their
  first occurrence. Both are what zoneinfo does with fold=0, written down here so nobody is
  surprised.
* Returned datetimes are in the business zone. Compare them with other zones' datetimes via
  ``.astimezone(UTC)`` or ``.timestamp()``: Python (PEP 495) never calls an ambiguous or gap
  wall time equal to a datetime in another zone.
* Overlapping shifts within one day are a configuration error (almost always a typo); an
  overnight shift running into the next day's first shift is allowed and simply merges.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.hours.wording import _is_en, describe_instant

UTC = dt.timezone.utc
DEFAULT_FILE = "hours.yml"
SEARCH_DAYS = 366
MINUTES_PER_DAY = 24 * 60

_DAYS = {
    0: ("monday", "mon", "lunes", "lun"),
    1: ("tuesday", "tue", "martes", "mar"),
    2: ("wednesday", "wed", "miercoles", "miércoles", "mie", "mié"),
    3: ("thursday", "thu", "jueves", "jue"),
    4: ("friday", "fri", "viernes", "vie"),
    5: ("saturday", "sat", "sabado", "sábado", "sab", "sáb"),
    6: ("sunday", "sun", "domingo", "dom"),
}
DAY_ALIASES = {alias: weekday for weekday, names in _DAYS.items() for alias in names}

_SHIFT_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")
_YEARLY_RE = re.compile(r"^(\d{2})-(\d{2})$")
_CLOSED_WORDS = {"closed", "cerrado"}


class HoursConfigError(ValueError):
    """hours.yml is wrong; the message says where and how to fix it."""


@dataclass(frozen=True)
class ShiftRule:
    """One "HH:MM-HH:MM" entry, as minutes from the start of the day it begins on."""

    start_min: int
    end_min: int  # > start_min; beyond 1440 when the shift runs past midnight

    @property
    def overnight(self) -> bool:
        return self.end_min > MINUTES_PER_DAY

    def __str__(self) -> str:
        end = self.end_min % MINUTES_PER_DAY if self.end_min != MINUTES_PER_DAY else MINUTES_PER_DAY
        return f"{_hhmm(self.start_min)}-{_hhmm(end)}"


@dataclass(frozen=True)
class Shift:
    """A concrete opening: aware datetimes in the business zone."""

    start: dt.datetime
    end: dt.datetime
    day: dt.date  # the local date the shift belongs to (the one it starts on)
    special: str | None = None  # the special date's name, or "special" when unnamed

    def contains(self, at: dt.datetime) -> bool:
        return self.start.astimezone(UTC) <= at.astimezone(UTC) < self.end.astimezone(UTC)


@dataclass(frozen=True)
class SpecialDay:
    rules: tuple[ShiftRule, ...]
    name: str | None = None


@dataclass
class BusinessHours:
    tz: ZoneInfo
    weekly: dict[int, tuple[ShiftRule, ...]]
    dated: dict[dt.date, SpecialDay] = field(default_factory=dict)
    yearly: dict[tuple[int, int], SpecialDay] = field(default_factory=dict)

    # ---- loading -------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike | None = None) -> "BusinessHours":
        path = hours_path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise HoursConfigError(f"business hours file {str(path)!r} not found (BUSINESS_HOURS_FILE)") from None
        return cls.from_text(text, source=str(path))

    @classmethod
    def from_text(cls, text: str, source: str = "hours") -> "BusinessHours":
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise HoursConfigError(f"{source}: not valid YAML: {exc}") from None
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Any, source: str = "hours") -> "BusinessHours":
        if not isinstance(data, dict):
            raise HoursConfigError(f"{source}: expected a mapping with timezone, weekly, special")
        unknown = set(data) - {"timezone", "weekly", "special"}
        if unknown:
            raise HoursConfigError(
                f"{source}: unknown key(s) {sorted(map(str, unknown))}; allowed: timezone, weekly, special"
            )
        tz = _parse_tz(data.get("timezone"), source)

        weekly_raw = data.get("weekly") or {}
        if not isinstance(weekly_raw, dict):
            raise HoursConfigError(f"{source}: weekly must map day names to lists of shifts")
        weekly: dict[int, tuple[ShiftRule, ...]] = {d: () for d in range(7)}
        seen: dict[int, str] = {}
        for day_name, value in weekly_raw.items():
            key = str(day_name).strip().lower()
            if key not in DAY_ALIASES:
                raise HoursConfigError(
                    f"{source}: weekly: unknown day {day_name!r} (use monday..sunday or lunes..domingo)"
                )
            weekday = DAY_ALIASES[key]
            if weekday in seen:
                raise HoursConfigError(f"{source}: weekly: {day_name!r} repeats {seen[weekday]!r}")
            seen[weekday] = str(day_name)
            weekly[weekday] = _parse_rules(value, f"{source}: weekly.{day_name}")

        dated: dict[dt.date, SpecialDay] = {}
        yearly: dict[tuple[int, int], SpecialDay] = {}
        special_raw = data.get("special") or {}
        if not isinstance(special_raw, dict):
            raise HoursConfigError(f"{source}: special must map dates to `closed` or shifts")
        for raw_key, value in special_raw.items():
            where = f"{source}: special.{raw_key}"
            day = _parse_special_day(value, where)
            if isinstance(raw_key, dt.datetime):
                raise HoursConfigError(f"{where}: expected a date, not a date and time")
            if isinstance(raw_key, dt.date):  # PyYAML already parsed an unquoted YYYY-MM-DD
                dated[raw_key] = day
                continue
            key = str(raw_key).strip()
            yearly_match = _YEARLY_RE.match(key)
            try:
                if yearly_match:
                    month, dom = int(yearly_match.group(1)), int(yearly_match.group(2))
                    dt.date(2024, month, dom)  # a leap year, so 02-29 is accepted
                    yearly[(month, dom)] = day
                else:
                    dated[dt.date.fromisoformat(key)] = day
            except ValueError:
                raise HoursConfigError(f"{where}: bad date (use YYYY-MM-DD, or MM-DD for every year)") from None
        return cls(tz=tz, weekly=weekly, dated=dated, yearly=yearly)

    # ---- queries -------------------------------------------------------------------------

    def special_on(self, day: dt.date) -> SpecialDay | None:
        """The special entry for local date ``day``: a full date wins over a yearly one."""
        return self.dated.get(day) or self.yearly.get((day.month, day.day))

    def shifts_on(self, day: dt.date) -> list[Shift]:
        """The shifts that start on local date ``day``, in order."""
        special = self.special_on(day)
        if special is not None:
            rules, label = special.rules, special.name or "special"
        else:
            rules, label = self.weekly[day.weekday()], None
        return [self._materialise(day, rule, label) for rule in rules]

    def current_shift(self, at: dt.datetime) -> Shift | None:
        at = _aware(at)
        today = at.astimezone(self.tz).date()
        # An overnight shift started yesterday can still be running; nothing runs longer.
        for day in (today - dt.timedelta(days=1), today):
            for shift in self.shifts_on(day):
                if shift.contains(at):
                    return shift
        return None

    def is_open(self, at: dt.datetime) -> bool:
        return self.current_shift(at) is not None

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        """The first instant at or after ``at`` when the team is open (``at`` itself if open now).

        None only when nothing opens within SEARCH_DAYS days.
        """
        at = _aware(at)
        if self.is_open(at):
            return at.astimezone(self.tz)
        at_utc = at.astimezone(UTC)
        for shift in self._shifts_from(at.astimezone(self.tz).date() - dt.timedelta(days=1)):
            if shift.start.astimezone(UTC) > at_utc:
                return shift.start
        return None

    def next_closing(self, at: dt.datetime) -> dt.datetime | None:
        """When the current open period ends (following back-to-back shifts); None when closed."""
        at = _aware(at)
        shift = self.current_shift(at)
        if shift is None:
            return None
        end = shift.end.astimezone(UTC)
        for later in self._shifts_from(shift.day):
            later_start, later_end = later.start.astimezone(UTC), later.end.astimezone(UTC)
            if later_start > end:
                break
            end = max(end, later_end)
        return end.astimezone(self.tz)

    # ---- phrasing ------------------------------------------------------------------------

    def describe_next_opening(
        self, at: dt.datetime, language: str = "es", customer_tz: str | dt.tzinfo | None = None
    ) -> str | None:
        """E.g. "mañana a las 10:00" / "on Monday at 10:00 AM", in the customer's local time."""
        opening = self.next_opening(at)
        if opening is None:
            return None
        return describe_instant(opening, _aware(at), language, _zone(customer_tz) or self.tz)

    def back_message(
        self, at: dt.datetime, language: str = "es", customer_tz: str | dt.tzinfo | None = None
    ) -> str:
        """The whole sentence for the customer: when a person can answer again."""
        en = _is_en(language)
        if self.is_open(at):
            return "Our team is available now." if en else "Nuestro equipo está disponible ahora."
        when = self.describe_next_opening(at, language, customer_tz)
        if when is None:
            return (
                "Our team has no scheduled hours at the moment."
                if en
                else "Por ahora nuestro equipo no tiene horario de atención programado."
            )
        return f"Our team is back {when}." if en else f"Nuestro equipo vuelve {when}."

    # ---- internals -----------------------------------------------------------------------

    def _shifts_from(self, first_day: dt.date) -> Iterable[Shift]:
        for offset in range(SEARCH_DAYS + 2):
            yield from self.shifts_on(first_day + dt.timedelta(days=offset))

    def _materialise(self, day: dt.date, rule: ShiftRule, label: str | None) -> Shift:
        start = _local(day, rule.start_min, self.tz)
        end = _local(day, rule.end_min, self.tz)
        return Shift(start=start, end=end, day=day, special=label)


def hours_path(path: str | os.PathLike | None = None) -> Path:
    """The schedule file: ``path``, else BUSINESS_HOURS_FILE, else hours.yml in the repo."""
    resolved = Path(path or os.environ.get("BUSINESS_HOURS_FILE") or DEFAULT_FILE)
    if not resolved.is_absolute() and not resolved.exists():
        # Processes are started from the repo root, but tests and tools may not be.
        candidate = Path(__file__).resolve().parents[2] / resolved
        if candidate.exists():
            resolved = candidate
    return resolved


def _parse_tz(name: Any, source: str) -> ZoneInfo:
    if not name or not isinstance(name, str):
        raise HoursConfigError(f"{source}: timezone is required (e.g. America/Mexico_City)")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursConfigError(f"{source}: unknown time zone {name!r} (use an IANA name like America/Mexico_City)") from None


def _parse_special_day(value: Any, where: str) -> SpecialDay:
    name = None
    if isinstance(value, dict):
        extra = set(value) - {"hours", "name"}
        if extra:
            raise HoursConfigError(f"{where}: unknown key(s) {sorted(map(str, extra))}; allowed: hours, name")
        if "hours" not in value:
            raise HoursConfigError(f"{where}: missing `hours` (`closed` or a list of shifts)")
        name = None if value.get("name") is None else str(value["name"])
        value = value["hours"]
    return SpecialDay(rules=_parse_rules(value, where), name=name)


def _parse_rules(value: Any, where: str) -> tuple[ShiftRule, ...]:
    if value is None or value is False or value == []:
        return ()
    if isinstance(value, str):
        if value.strip().lower() in _CLOSED_WORDS:
            return ()
        value = [value]
    if not isinstance(value, list):
        raise HoursConfigError(f"{where}: expected `closed` or a list like [\"10:00-14:00\"], got {value!r}")
    rules = [_parse_shift(item, f"{where}[{i}]") for i, item in enumerate(value)]
    rules.sort(key=lambda r: r.start_min)
    for before, after in zip(rules, rules[1:]):
        if after.start_min < before.end_min:
            raise HoursConfigError(f"{where}: shifts {before} and {after} overlap")
    return tuple(rules)


def _parse_shift(item: Any, where: str) -> ShiftRule:
    if isinstance(item, int):
        # YAML 1.1 reads an unquoted 10:00 as the base-60 number 600.
        raise HoursConfigError(f"{where}: write shifts as quoted strings like \"10:00-14:00\"")
    if not isinstance(item, str):
        raise HoursConfigError(f"{where}: expected a shift like \"10:00-14:00\", got {item!r}")
    match = _SHIFT_RE.match(item)
    if not match:
        raise HoursConfigError(f"{where}: bad shift {item!r} (expected \"HH:MM-HH:MM\")")
    sh, sm, eh, em = (int(g) for g in match.groups())
    if not (0 <= sh <= 23 and 0 <= sm <= 59):
        raise HoursConfigError(f"{where}: bad time {sh:02d}:{sm:02d} in {item!r} (00:00 to 23:59)")
    if not ((0 <= eh <= 23 and 0 <= em <= 59) or (eh, em) == (24, 0)):
        raise HoursConfigError(f"{where}: bad time {eh:02d}:{em:02d} in {item!r} (00:00 to 24:00)")
    start, end = sh * 60 + sm, eh * 60 + em
    if end == start:
        raise HoursConfigError(
            f"{where}: shift {item!r} ends when it starts; for a whole day write \"00:00-24:00\""
        )
    if end < start:
        end += MINUTES_PER_DAY  # runs past midnight into the next day
    return ShiftRule(start, end)


def _local(day: dt.date, minutes: int, tz: ZoneInfo) -> dt.datetime:
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
    # Round-trip through UTC so a wall time inside a DST gap becomes a real instant.
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business hours need a timezone-aware datetime (use the clock's now())")
    return at


def _zone(tz: str | dt.tzinfo | None) -> dt.tzinfo | None:
    if tz is None or isinstance(tz, dt.tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}") from None
