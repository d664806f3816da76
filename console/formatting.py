"""Display filters every page uses: durations, times in the business zone, ISO stamps."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from functools import partial
from zoneinfo import ZoneInfo

from flask import Flask


def duration(value: timedelta | float | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    seconds = max(seconds, 0)
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


def hhmm(value: datetime | None, tz: tzinfo = timezone.utc) -> str:
    """Shown in the business time zone: agents read "16:05 CST", not UTC arithmetic."""
    return value.astimezone(tz).strftime("%d %b %H:%M %Z") if value else ""


def display_timezone(name: str | None) -> tzinfo:
    """CONSOLE_TIMEZONE, else the zone of the business hours file, else UTC."""
    try:
        if name:
            return ZoneInfo(name)
        from bot.hours import BusinessHours

        return BusinessHours.from_file().tz
    except Exception:  # a missing or broken hours file must not stop the console
        return timezone.utc


def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def init_app(app: Flask) -> None:
    tz = display_timezone(app.config.get("DISPLAY_TIMEZONE"))
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["hhmm"] = partial(hhmm, tz=tz)
    app.jinja_env.filters["iso"] = iso
