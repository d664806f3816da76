"""An answer as the customer's WhatsApp shows it: *bold*, _italic_, ~strike~ and ```mono```.

The text is escaped first and only then given the four tags, so nothing a lead types becomes
markup. WhatsApp applies a marker only around non-space text on one line, with no letter
touching it on the outside (so `faq_key` and `2*3*4` stay as typed); monospace takes its text
as is, markers included.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from bot.content.catalog import Button
from connector.cloudapi.limits import REPLY_BUTTONS_MAX
from connector.cloudapi.messages import list_button_label

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


def render(text: str) -> Markup:
    """Safe HTML for a WhatsApp text (line breaks kept as <br>)."""
    parts = (text or "").split(MONO)
    if len(parts) % 2 == 0:  # an unclosed ``` is shown as typed
        parts[-2:] = [parts[-2] + MONO + parts[-1]]
    html = []
    for n, part in enumerate(parts):
        escaped = str(escape(part))
        html.append(f"<code>{escaped}</code>" if n % 2 else _styled(escaped))
    return Markup("".join(html).replace("\n", "<br>"))


@dataclass(frozen=True)
class Preview:
    """What the bubble shows: the text, and its buttons as reply buttons or as a list."""

    html: Markup
    buttons: tuple[Button, ...]
    as_list: bool
    list_label: str


def preview(text: str, buttons: list[Button], language: str) -> Preview:
    shown = tuple(b for b in buttons if b.title)
    return Preview(render(text), shown, len(shown) > REPLY_BUTTONS_MAX, list_button_label(language))
