"""Turn a Rasa tracker into the conversation as the customer saw it.

Bot messages keep their buttons (1-3 were WhatsApp reply buttons, 4-10 a list), agent messages
are bot events carrying metadata.agent, and templates are shown with their parameters filled in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from bot.customer_events import CustomerEvent
from bot.orders import OrderSummary

from . import msg_changes

MAX_REPLY_BUTTONS = 3


@dataclass
class Message:
    kind: str  # customer | bot | agent | system
    text: str
    at: datetime | None
    agent: str | None = None
    buttons: list[str] = field(default_factory=list)   # reply-button chips
    rows: list[str] = field(default_factory=list)      # list-message rows
    template: str | None = None
    attachment: str | None = None
    # Customer messages: the wamid, and what msg_changes.py lays over them.
    wamid: str | None = None
    order: OrderSummary | None = None
    edited: bool = False
    deleted: bool = False
    original_text: str | None = None  # the text before the customer's edit


def _when(event: dict) -> datetime | None:
    ts = event.get("timestamp")
    return datetime.fromtimestamp(ts, tz=timezone.utc) if isinstance(ts, (int, float)) else None


def _button_titles(buttons) -> list[str]:
    return [str(b.get("title", "")) for b in buttons or [] if isinstance(b, dict)]


def _bot_message(event: dict, templates) -> Message:
    data = event.get("data") or {}
    metadata = event.get("metadata") or {}
    agent = metadata.get("agent")
    msg = Message("agent" if agent else "bot", event.get("text") or "", _when(event), agent=agent)
    titles = _button_titles(data.get("buttons") or data.get("quick_replies"))
    if len(titles) > MAX_REPLY_BUTTONS:
        msg.rows = titles
    else:
        msg.buttons = titles
    custom = data.get("custom")
    if isinstance(custom, dict) and custom.get("type") == "template":
        template = custom.get("template") or {}
        msg.template = str(template.get("name", "?"))
        msg.text = templates(template) or msg.text or f"Template {msg.template}"
    elif custom and not msg.text:
        msg.text = "(interactive message)"
    if data.get("image") or data.get("attachment"):
        msg.attachment = "image" if data.get("image") else "attachment"
    return msg


def _customer_text(event: dict, last_buttons: dict[str, str]) -> str:
    text = event.get("text") or ""
    if not text.startswith("/"):
        return text
    # Taps, media and locations reach Rasa as "/intent{...}"; show what the customer actually
    # sent: the connector's facts (metadata.whatsapp) or the title of the button they tapped.
    facts = (event.get("metadata") or {}).get("whatsapp")
    facts = facts if isinstance(facts, dict) else {}
    kind = facts.get("kind") or ""
    if kind in ("button_reply", "list_reply", "template_button") and facts.get("text"):
        return str(facts["text"])
    if text in last_buttons:
        return last_buttons[text]
    if kind and kind != "text":
        label = f"[{kind.replace('_', ' ')}]"
        return f"{label} {facts['text']}" if facts.get("text") else label
    return text


def messages_from_tracker(tracker: dict, templates=lambda template_object: None,
                          events: list[CustomerEvent] = ()) -> list[Message]:
    """`templates(template_object)` is what the customer read for a sent Cloud API `template`
    object (TemplateRegister.text_of), or None when it is unknown; `events` are the conversation's
    recorded customer events (bot/customer_events.py)."""
    out: list[Message] = []
    last_buttons: dict[str, str] = {}
    for event in tracker.get("events") or []:
        kind = event.get("event")
        if kind == "user":
            out.append(Message("customer", _customer_text(event, last_buttons), _when(event),
                               wamid=event.get("message_id"), order=msg_changes.order_of(event)))
        elif kind == "bot":
            msg = _bot_message(event, templates)
            buttons = (event.get("data") or {}).get("buttons") or []
            last_buttons = {str(b.get("payload")): str(b.get("title", ""))
                            for b in buttons if isinstance(b, dict)}
            if msg.text or msg.buttons or msg.rows or msg.attachment:
                out.append(msg)
        elif kind == "pause":
            out.append(Message("system", "Handed over to an agent (bot paused)", _when(event)))
        elif kind == "resume":
            out.append(Message("system", "Bot resumed", _when(event)))
    return msg_changes.apply(out, events, lambda text, at: Message("system", text, at))


def latest_slot(tracker: dict, name: str):
    return (tracker.get("slots") or {}).get(name)
