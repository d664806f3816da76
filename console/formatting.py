"""Small display helpers shared by templates."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo


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


WINDOW_REASONS = {
    "open": "open",
    "expired": "more than 24 h since the customer's last message",
    "no_inbound": "the customer has not written yet",
    "131047": "WhatsApp reported the window closed",
    "closed": "closed",
}


def window_reason(reason: str | None) -> str:
    return WINDOW_REASONS.get(reason or "", reason or "")


def failure_summary(entry, tz: tzinfo = timezone.utc) -> dict:
    """A delivery-failure record (connector/delivery.py) reduced to what an agent can act on."""
    if not isinstance(entry, dict):
        return {"code": "", "title": str(entry), "detail": "", "excerpt": "", "at": ""}
    body = entry.get("body") if isinstance(entry.get("body"), dict) else {}
    excerpt = ""
    if isinstance(body.get("text"), dict):
        excerpt = str(body["text"].get("body", ""))
    elif isinstance(body.get("template"), dict):
        excerpt = f"template {body['template'].get('name', '')}"
    elif body.get("type"):
        excerpt = f"{body['type']} message"
    at = entry.get("at") or ""
    try:
        at = hhmm(datetime.fromisoformat(at), tz) if at else ""
    except ValueError:
        pass
    return {
        "code": str(entry.get("code") or ""),
        "title": str(entry.get("title") or entry.get("kind") or "Not delivered"),
        "detail": str(entry.get("detail") or ""),
        "excerpt": excerpt,
        "at": at,
    }
