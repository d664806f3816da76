"""An answer as the customer's WhatsApp shows it: its formatting (console/formatting.py
`whatsapp`) and its buttons, as reply buttons or as a list."""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from bot.content.catalog import Button
from connector.cloudapi.limits import REPLY_BUTTONS_MAX
from connector.cloudapi.messages import list_button_label

from ..formatting import whatsapp


@dataclass(frozen=True)
class Preview:
    """What the bubble shows: the text, and its buttons as reply buttons or as a list."""

    html: Markup
    buttons: tuple[Button, ...]
    as_list: bool
    list_label: str


def preview(text: str, buttons: list[Button], language: str) -> Preview:
    shown = tuple(b for b in buttons if b.title)
    return Preview(whatsapp(text), shown, len(shown) > REPLY_BUTTONS_MAX, list_button_label(language))
