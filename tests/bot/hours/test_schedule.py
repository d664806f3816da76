"""Business hours: schedule maths (zones, overnight shifts, holidays, DST), phrasing, the notice."""
from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.hours import AfterHoursNotice, BusinessHours, HoursConfigError
from core.redis_conn import get_redis

ROOT = Path(__file__).resolve().parents[3]
MX = ZoneInfo("America/Mexico_City")
MAD = ZoneInfo("Europe/Madrid")
UTC = dt.timezone.utc

WEEKDAY = ["10:00-14:00", "16:00-20:00"]
CONFIGS = {
    "alba": {
        "timezone": "America/Mexico_City",
        "weekly": {
            "monday": WEEKDAY, "tuesday": WEEKDAY, "wednesday": WEEKDAY, "thursday": WEEKDAY,
            "friday": WEEKDAY + ["22:00-02:00"],
            "saturday": ["10:00-15:00"],
            "sunday": "closed",
        },
        "special": {
            dt.date(2026, 12, 5): "closed",  # a Saturday holiday after an overnight Friday
            "2026-12-24": {"name": "Nochebuena", "hours": ["10:00-15:00"]},
            "2026-12-25": {"hours": "closed"},
            "2027-01-01": "closed",
            "05-01": "closed",  # every year
        },
    },
    # Europe/Madrid has DST: 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC),
    # 2026-10-25 03:00 CEST -> 02:00 CET (01:00 UTC); 2027: 03-28 and 10-31.
    "madrid": {
        "timezone": "Europe/Madrid",
        "weekly": {"sábado": ["22:00-04:00"], "domingo": ["10:00-14:00"]},
        "special": {
            "2027-03-27": "closed",
            "2027-03-28": ["02:30-06:00"],  # 02:30 does not exist that night
            "2027-10-30": "closed",
            "2027-10-31": ["02:30-03:00"],  # 02:30 happens twice that night
        },
    },
    "closed_forever": {"timezone": "America/Mexico_City", "weekly": {}},
    "one_day": {"timezone": "America/Mexico_City", "special": {"2027-06-01": ["09:00-10:00"]}},
    "always": {"timezone": "UTC", "weekly": {d: ["00:00-24:00"] for d in
                                             ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
}


def _utc(when):
    return None if when is None else when.astimezone(UTC)


def hours(name: str) -> BusinessHours:
    return BusinessHours.from_dict(CONFIGS[name], source=name)


def mx(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=MX)


def utc(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


# (config, instant, open?, next opening (None when open now or never))
CASES = [
    # Two shifts a day; edges are half-open: open at opening, closed at closing.
    ("alba", mx("2026-11-26 09:59:59"), False, mx("2026-11-26 10:00")),
    ("alba", mx("2026-11-26 10:00"), True, None),
    ("alba", mx("2026-11-26 13:59:59.999999"), True, None),
    ("alba", mx("2026-11-26 14:00"), False, mx("2026-11-26 16:00")),
    ("alba", mx("2026-11-26 20:00"), False, mx("2026-11-27 10:00")),
    # The same instant given in another zone is the same instant.
    ("alba", utc("2026-11-26 16:00"), True, None),  # 10:00 in Mexico City
    ("alba", utc("2026-11-26 15:59"), False, mx("2026-11-26 10:00")),
    # Overnight Friday 22:00-02:00.
    ("alba", mx("2026-11-27 21:00"), False, mx("2026-11-27 22:00")),
    ("alba", mx("2026-11-27 23:59"), True, None),
    ("alba", mx("2026-11-28 00:00"), True, None),
    ("alba", mx("2026-11-28 01:00"), True, None),
    ("alba", mx("2026-11-28 02:00"), False, mx("2026-11-28 10:00")),
    # Saturday 2026-12-05 is a holiday: Friday's tail still runs, Saturday's own shift does not.
    ("alba", mx("2026-12-05 01:00"), True, None),
    ("alba", mx("2026-12-05 02:00"), False, mx("2026-12-07 10:00")),
    ("alba", mx("2026-12-05 12:00"), False, mx("2026-12-07 10:00")),
    # Sunday closed.
    ("alba", mx("2026-11-29 12:00"), False, mx("2026-11-30 10:00")),
    # Special hours and holidays.
    ("alba", mx("2026-12-24 14:59"), True, None),
    ("alba", mx("2026-12-24 16:30"), False, mx("2026-12-26 10:00")),  # 25th closed
    ("alba", mx("2026-12-25 11:00"), False, mx("2026-12-26 10:00")),
    ("alba", mx("2026-12-31 22:00"), False, mx("2027-01-02 10:00")),  # 1st closed
    ("alba", mx("2027-05-01 11:00"), False, mx("2027-05-03 10:00")),  # yearly entry, a Saturday
    ("alba", mx("2028-05-01 11:00"), False, mx("2028-05-02 10:00")),  # and a Monday next year
    # DST spring forward, overnight shift: Sat 2026-03-28 22:00 CET .. Sun 04:00 CEST.
    ("madrid", utc("2026-03-28 20:59"), False, utc("2026-03-28 21:00")),
    ("madrid", utc("2026-03-28 21:00"), True, None),
    ("madrid", utc("2026-03-29 01:30"), True, None),  # 03:30 CEST, just after the jump
    ("madrid", utc("2026-03-29 01:59"), True, None),
    ("madrid", utc("2026-03-29 02:00"), False, utc("2026-03-29 08:00")),  # 04:00 CEST; 10:00 CEST
    # Sunday 10:00 is 09:00 UTC in winter and 08:00 UTC in summer.
    ("madrid", utc("2026-03-22 08:30"), False, utc("2026-03-22 09:00")),
    ("madrid", utc("2026-03-29 07:59"), False, utc("2026-03-29 08:00")),
    ("madrid", utc("2026-03-29 08:00"), True, None),
    # DST fall back: Sat 2026-10-24 22:00 CEST (20:00 UTC) .. Sun 04:00 CET (03:00 UTC): 7 real hours.
    ("madrid", utc("2026-10-24 20:00"), True, None),
    ("madrid", utc("2026-10-25 02:30"), True, None),
    ("madrid", utc("2026-10-25 03:00"), False, utc("2026-10-25 09:00")),
    # A start in the spring-forward gap (02:30) opens at 03:30 CEST = 01:30 UTC.
    ("madrid", utc("2027-03-28 00:00"), False, utc("2027-03-28 01:30")),
    ("madrid", utc("2027-03-28 01:29"), False, utc("2027-03-28 01:30")),
    ("madrid", utc("2027-03-28 01:30"), True, None),
    ("madrid", utc("2027-03-28 03:59"), True, None),
    ("madrid", utc("2027-03-28 04:00"), False, utc("2027-04-03 20:00")),  # 06:00 CEST; next Sat
    # An ambiguous start (02:30 on fall-back night) is its first occurrence (CEST, 00:30 UTC);
    # 03:00 exists once (CET, 02:00 UTC).
    ("madrid", utc("2027-10-31 00:29"), False, utc("2027-10-31 00:30")),
    ("madrid", utc("2027-10-31 00:30"), True, None),
    ("madrid", utc("2027-10-31 01:30"), True, None),  # 02:30 CET, the second time round
    ("madrid", utc("2027-10-31 02:00"), False, utc("2027-11-06 21:00")),
    # Nothing within the horizon.
    ("closed_forever", mx("2026-11-26 12:00"), False, None),
    ("one_day", mx("2026-06-02 12:00"), False, mx("2027-06-01 09:00")),  # 364 days ahead
    ("one_day", mx("2026-05-01 12:00"), False, None),  # 396 days ahead: beyond 366
    ("always", utc("2026-11-26 00:00"), True, None),
    ("always", utc("2026-11-26 23:59:59"), True, None),
]


@pytest.mark.parametrize("config, at, expected_open, expected_next", CASES)
def test_schedule(config, at, expected_open, expected_next):
    h = hours(config)
    assert h.is_open(at) is expected_open
    assert (h.current_shift(at) is not None) is expected_open
    opening = h.next_opening(at)
    # Compared in UTC: Python never equates an ambiguous/gap wall time with another zone's (PEP 495).
    expected = at if expected_open else expected_next
    assert _utc(opening) == _utc(expected)
    if opening is not None:
        assert opening.tzinfo is h.tz  # in the business zone, as the contract says
        assert h.is_open(opening)


def test_current_shift_and_next_closing():
    h = hours("alba")
    shift = h.current_shift(mx("2026-11-28 01:00"))
    assert shift.day == dt.date(2026, 11, 27)
    assert (shift.start, shift.end) == (mx("2026-11-27 22:00"), mx("2026-11-28 02:00"))
    assert h.next_closing(mx("2026-11-28 01:00")) == mx("2026-11-28 02:00")
    assert h.current_shift(mx("2026-12-24 11:00")).special == "Nochebuena"
    assert h.current_shift(mx("2026-11-26 11:00")).special is None
    assert h.next_closing(mx("2026-11-26 15:00")) is None
    # Back-to-back shifts count as one open period.
    joined = BusinessHours.from_dict({"timezone": "UTC", "weekly": {
        "monday": ["20:00-02:00"], "tuesday": ["00:00-03:00", "03:00-05:00", "06:00-07:00"]}})
    assert joined.next_closing(utc("2026-11-23 21:00")) == utc("2026-11-24 05:00")


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        hours("alba").is_open(dt.datetime(2026, 11, 26, 12, 0))


# ---- phrasing -------------------------------------------------------------------------------

PHRASES = [
    # (at, language, customer zone, expected)
    (mx("2026-11-26 14:30"), "es", None, "Nuestro equipo vuelve hoy a las 16:00."),
    (mx("2026-11-26 14:30"), "en", None, "Our team is back today at 4:00 PM."),
    (mx("2026-11-26 21:00"), "es", None, "Nuestro equipo vuelve mañana a las 10:00."),
    (mx("2026-11-26 21:00"), "en", None, "Our team is back tomorrow at 10:00 AM."),
    (mx("2026-11-29 12:00"), "es", None, "Nuestro equipo vuelve mañana a las 10:00."),
    (mx("2026-11-28 16:00"), "es", None, "Nuestro equipo vuelve el lunes a las 10:00."),
    (mx("2026-11-28 16:00"), "en", None, "Our team is back on Monday at 10:00 AM."),
    (mx("2026-12-24 16:00"), "es", None, "Nuestro equipo vuelve el sábado a las 10:00."),
    (mx("2026-11-26 12:00"), "es", None, "Nuestro equipo está disponible ahora."),
    # In the customer's own zone: Mexico 10:00 is 17:00 in Madrid; 16:00 is 23:00.
    (mx("2026-11-26 14:30"), "es", "Europe/Madrid", "Nuestro equipo vuelve hoy a las 23:00."),
    # 21:00 Mexico is already Friday 04:00 in Madrid; 10:00 Friday Mexico is 17:00 there: "hoy".
    (mx("2026-11-26 21:00"), "en", MAD, "Our team is back today at 5:00 PM."),
    # Friday 08:00 Mexico is 15:00 in Madrid; the 10:00 opening is 17:00 there.
    (mx("2026-11-27 08:00"), "es", "Europe/Madrid", "Nuestro equipo vuelve hoy a las 17:00."),
    # Friday 21:00 Mexico is already Saturday 04:00 in Madrid; the 22:00 shift is 05:00 there.
    (mx("2026-11-27 21:00"), "es", "Europe/Madrid", "Nuestro equipo vuelve hoy a las 5:00."),
    (mx("2026-11-27 21:00"), "es", "Asia/Tokyo", "Nuestro equipo vuelve hoy a las 13:00."),
    (mx("2026-11-27 21:00"), "es", "Pacific/Kiritimati", "Nuestro equipo vuelve hoy a las 18:00."),
    # Unknown languages fall back to Spanish, the conversation default.
    (mx("2026-11-26 21:00"), "pt", None, "Nuestro equipo vuelve mañana a las 10:00."),
]


@pytest.mark.parametrize("at, language, zone, expected", PHRASES)
def test_back_message(at, language, zone, expected):
    assert hours("alba").back_message(at, language, zone) == expected


def test_phrasing_articles_and_far_dates():
    one_am = BusinessHours.from_dict({"timezone": "America/Mexico_City", "weekly": {"lunes": ["01:15-03:00"]}})
    assert one_am.describe_next_opening(mx("2026-11-26 12:00"), "es") == "el lunes a la 1:15"
    assert one_am.describe_next_opening(mx("2026-11-26 12:00"), "en") == "on Monday at 1:15 AM"
    noon = BusinessHours.from_dict({"timezone": "America/Mexico_City", "weekly": {"monday": ["12:00-13:00"]}})
    assert noon.describe_next_opening(mx("2026-11-30 11:00"), "en") == "today at 12:00 PM"
    far = hours("one_day")
    assert far.describe_next_opening(mx("2027-05-20 12:00"), "es") == "el martes 1 de junio a las 9:00"
    assert far.describe_next_opening(mx("2027-05-20 12:00"), "en") == "on Tuesday, June 1 at 9:00 AM"
    never = hours("closed_forever")
    assert never.describe_next_opening(mx("2026-11-26 12:00")) is None
    assert "no tiene horario" in never.back_message(mx("2026-11-26 12:00"), "es")
    assert "no scheduled hours" in never.back_message(mx("2026-11-26 12:00"), "en")


# ---- the file and its validation ------------------------------------------------------------

def test_repo_hours_file_loads(monkeypatch):
    monkeypatch.delenv("BUSINESS_HOURS_FILE", raising=False)
    h = BusinessHours.from_file(ROOT / "hours.yml")
    assert h.tz.key == "America/Mexico_City"
    assert h.is_open(mx("2026-11-28 01:00"))  # Friday's online shift
    assert not h.is_open(mx("2026-12-25 12:00"))
    assert h.next_opening(mx("2026-12-24 15:00")) == mx("2026-12-26 10:00")


def test_from_file_uses_env(tmp_path, monkeypatch):
    path = tmp_path / "h.yml"
    path.write_text('timezone: Europe/Madrid\nweekly:\n  monday: ["09:00-10:00"]\nspecial:\n  2026-11-30: closed\n')
    monkeypatch.setenv("BUSINESS_HOURS_FILE", str(path))
    h = BusinessHours.from_file()
    assert h.tz.key == "Europe/Madrid"
    assert h.next_opening(utc("2026-11-26 00:00")) == dt.datetime(2026, 12, 7, 9, tzinfo=MAD)
    monkeypatch.setenv("BUSINESS_HOURS_FILE", str(tmp_path / "missing.yml"))
    with pytest.raises(HoursConfigError, match="not found"):
        BusinessHours.from_file()


BAD = [
    ({"weekly": {}}, "timezone is required"),
    ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
    ({"timezone": "UTC", "weekly": {"funday": ["10:00-11:00"]}}, "unknown day 'funday'"),
    ({"timezone": "UTC", "weekly": {"monday": ["25:00-26:00"]}}, "bad time 25:00"),
    ({"timezone": "UTC", "weekly": {"monday": ["10:60-11:00"]}}, "bad time 10:60"),
    ({"timezone": "UTC", "weekly": {"monday": ["10:00-24:30"]}}, "bad time 24:30"),
    ({"timezone": "UTC", "weekly": {"monday": ["10:00-10:00"]}}, "ends when it starts"),
    ({"timezone": "UTC", "weekly": {"monday": ["10am-2pm"]}}, "expected \"HH:MM-HH:MM\""),
    ({"timezone": "UTC", "weekly": {"monday": [600]}}, "quoted strings"),
    ({"timezone": "UTC", "weekly": {"monday": ["10:00-14:00", "13:00-15:00"]}}, "overlap"),
    ({"timezone": "UTC", "weekly": {"monday": ["09:00-10:00"], "lunes": []}}, "repeats"),
    ({"timezone": "UTC", "weekly": {"monday": {"open": "10:00"}}}, "expected `closed` or a list"),
    ({"timezone": "UTC", "special": {"2026-02-30": "closed"}}, "bad date"),
    ({"timezone": "UTC", "special": {"13-01": "closed"}}, "bad date"),
    ({"timezone": "UTC", "special": {"2026-12-24": {"name": "x"}}}, "missing `hours`"),
    ({"timezone": "UTC", "special": {"2026-12-24": {"hours": [], "note": "x"}}}, "unknown key"),
    ({"timezone": "UTC", "holidays": {}}, "unknown key"),
]


@pytest.mark.parametrize("data, message", BAD)
def test_validation_errors(data, message):
    with pytest.raises(HoursConfigError) as err:
        BusinessHours.from_dict(data, source="test.yml")
    assert message in str(err.value)
    assert str(err.value).startswith("test.yml")


def test_unquoted_yaml_times_are_explained(tmp_path):
    path = tmp_path / "h.yml"
    path.write_text("timezone: UTC\nweekly:\n  monday: [10:00]\n")
    with pytest.raises(HoursConfigError, match="quoted strings"):
        BusinessHours.from_file(path)


# ---- after-hours notice ---------------------------------------------------------------------

def test_notice_once_per_closed_period(redis_client):
    notice = AfterHoursNotice(redis_client, hours("alba"))
    # Thursday lunch break: one closed period.
    assert notice.should_send("c1", mx("2026-11-26 14:05")) is True
    assert notice.should_send("c1", mx("2026-11-26 14:06")) is False
    assert notice.should_send("c1", mx("2026-11-26 15:59")) is False
    assert redis_client.get("hours:notice:c1") == str(int(mx("2026-11-26 16:00").timestamp()))
    assert redis_client.ttl("hours:notice:c1") > 0
    # Open: never.
    assert notice.should_send("c1", mx("2026-11-26 17:00")) is False
    # The evening closure is a new period.
    assert notice.should_send("c1", mx("2026-11-26 20:30")) is True
    assert notice.should_send("c1", mx("2026-11-27 09:00")) is False
    # Another conversation is independent.
    assert notice.should_send("c2", mx("2026-11-27 09:00")) is True
    # A late worker still in an older period does not re-send.
    assert notice.should_send("c1", mx("2026-11-26 14:30")) is False


def test_notice_defaults_to_its_clock(redis_client):
    from core.clock import FixedClock

    clock = FixedClock(mx("2026-11-29 12:00"))  # Sunday
    notice = AfterHoursNotice(redis_client, hours("alba"), clock)
    assert notice.should_send("c") is True
    clock.advance(hours=3)
    assert notice.should_send("c") is False
    clock.advance(days=1)  # Monday 15:00, lunch break: a new closed period
    assert notice.should_send("c") is True
    notice.reset("c")
    assert notice.should_send("c") is True


def test_notice_when_never_open(redis_client):
    notice = AfterHoursNotice(redis_client, hours("closed_forever"))
    assert notice.should_send("c", mx("2026-11-26 12:00")) is True
    assert notice.should_send("c", mx("2026-12-26 12:00")) is False


def test_notice_is_atomic_under_concurrency(redis_url, redis_client):
    h = hours("alba")
    at = mx("2026-11-26 21:00")
    workers = 12
    barrier = threading.Barrier(workers)
    results: list[bool] = []
    lock = threading.Lock()

    def worker():
        client = get_redis(redis_url)
        notice = AfterHoursNotice(client, h)
        barrier.wait()
        sent = notice.should_send("race", at)
        with lock:
            results.append(sent)
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
