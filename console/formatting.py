"""Display filters every page uses: durations, times in the business zone, ISO stamps, and
WhatsApp's message formatting."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import partial
from zoneinfo import ZoneInfo

from flask import Flask
from markupsafe import Markup, escape


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


# WhatsApp's markers: *bold*, _italic_, ~strike~, `inline code`, ```monospace```. A marker
# counts only around text that neither starts nor ends with a space, and not inside a word
# (snake_case, 2*3*4 stay as typed), on one line, as the phones render it.
_CODE = re.compile(r"(```[\s\S]+?```|`[^`\n]+`)")
_INLINE = tuple(
    (re.compile(rf"(?<![\w{m}]){re.escape(m)}(?=\S)([^\n]*?\S){re.escape(m)}(?![\w{m}])"), tag)
    for m, tag in (("*", "strong"), ("_", "em"), ("~", "s")))
_BULLET = re.compile(r"^(\s*)[*-] ", re.M)
_QUOTE = re.compile(r"^&gt; ?(.*)$", re.M)


def whatsapp(text: str | None) -> Markup:
    """A message as WhatsApp shows it: its formatting rendered, everything else inert (the
    text is escaped before any tag is added, and only our tags are added)."""
    parts = _CODE.split(str(escape(text or "")))
    for i, part in enumerate(parts):
        if i % 2:
            mono = part.startswith("```")
            inner = part[3:-3] if mono else part[1:-1]
            parts[i] = f'<code class="{"wa-mono" if mono else "wa-code"}">{inner}</code>'
            continue
        part = _QUOTE.sub(r'<span class="wa-quote">\1</span>', _BULLET.sub(r"\1• ", part))
        for pattern, tag in _INLINE:
            part = pattern.sub(rf"<{tag}>\1</{tag}>", part)
        parts[i] = part
    return Markup("".join(parts))


def init_app(app: Flask) -> None:
    tz = display_timezone(app.config.get("DISPLAY_TIMEZONE"))
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["hhmm"] = partial(hhmm, tz=tz)
    app.jinja_env.filters["iso"] = iso
    app.jinja_env.filters["whatsapp"] = whatsapp
