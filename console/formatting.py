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


# WhatsApp applies a marker only around non-space text on one line, with no letter touching it
# on the outside (so `faq_key` and `2*3*4` stay as typed); monospace takes its text as is,
# markers included.
MONO = "```"
STYLES = (("*", "strong"), ("_", "em"), ("~", "s"))


def _pattern(marker: str) -> re.Pattern[str]:
    m = re.escape(marker)
    # [^\W_]: a letter or digit; another marker (`_*x*_`) may touch it, as in WhatsApp.
    return re.compile(rf"(?<![^\W_])(?<!{m}){m}(?=[^\s{m}])([^\n]*?[^\s{m}]|[^\s{m}]){m}(?![^\W_])(?!{m})")


PATTERNS = tuple((_pattern(marker), tag) for marker, tag in STYLES)


def _styled(escaped: str) -> str:
    for pattern, tag in PATTERNS:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return escaped


def whatsapp(text: str | None) -> Markup:
    """A WhatsApp text as the phone shows it: *bold*, _italic_, ~strike~ and ```mono```, line
    breaks as <br>. The text is escaped first and only then given the four tags, so nothing a
    customer, an agent or a lead types becomes markup (the history, the FAQ and Try it previews)."""
    parts = (text or "").split(MONO)
    if len(parts) % 2 == 0:  # an unclosed ``` is shown as typed
        parts[-2:] = [parts[-2] + MONO + parts[-1]]
    html = []
    for n, part in enumerate(parts):
        escaped = str(escape(part))
        html.append(f"<code>{escaped}</code>" if n % 2 else _styled(escaped))
    return Markup("".join(html).replace("\n", "<br>"))


def init_app(app: Flask) -> None:
    tz = display_timezone(app.config.get("DISPLAY_TIMEZONE"))
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["hhmm"] = partial(hhmm, tz=tz)
    app.jinja_env.filters["iso"] = iso
    app.jinja_env.filters["whatsapp"] = whatsapp
