"""Turn a Rasa tracker into the conversation as the customer saw it.

Bot messages keep their buttons (1-3 were WhatsApp reply buttons, 4-10 a list), agent messages
are bot events carrying metadata.agent, and templates are shown with their parameters filled in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from connector.cloudapi.delivery import event_key
from bot.customer_events import CustomerEvent
from bot.orders import OrderSummary

from . import msg_changes

MAX_REPLY_BUTTONS = 3
MEDIA_KINDS = ("image", "sticker", "audio", "video", "document")


@dataclass(frozen=True)
class MediaRef:
    """A file in the conversation, by its Cloud API media id (console/desk/media_views.py
    serves it to the agents who may see the chat)."""
    kind: str  # one of MEDIA_KINDS
    id: str
    mime_type: str | None = None
    filename: str | None = None
    file_size: int | None = None  # known for the files agents sent; the customer's are looked up
    voice: bool = False



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
    # Delivery (console/desk/delivery.py `annotate`): the bot event's link key
    # (connector.cloudapi.delivery.event_key), then the state of its sends.
    delivery_key: str | None = None
    status: str | None = None
    failure: dict | None = None
    advice: str = ""
    media: MediaRef | None = None
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
    msg = Message("agent" if agent else "bot", event.get("text") or "", _when(event), agent=agent,
                  delivery_key=event_key(event.get("timestamp")))
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
    elif (media := media_ref(metadata.get("media"))) is not None:
        msg.media = media
        # The caption travels in the Cloud API object, not as text (Rasa would send that too).
        content = custom.get(media.kind) if isinstance(custom, dict) else None
        msg.text = str(content.get("caption") or "") if isinstance(content, dict) else msg.text
    elif custom and not msg.text:
        msg.text = "(interactive message)"
    if data.get("image") or data.get("attachment"):
        msg.attachment = "image" if data.get("image") else "attachment"
    return msg


def media_ref(value) -> MediaRef | None:
    """The connector's parsed media (metadata.whatsapp.media) or an agent's sent file
    (metadata.media of core/rasa_api.py bot_media_event): the same fields."""
    if not isinstance(value, dict) or value.get("kind") not in MEDIA_KINDS or not value.get("id"):
        return None
    size = value.get("file_size")
    return MediaRef(kind=value["kind"], id=str(value["id"]), mime_type=value.get("mime_type") or None,
                    filename=value.get("filename") or None,
                    file_size=size if isinstance(size, int) else None, voice=bool(value.get("voice")))


def _customer_media(event: dict) -> MediaRef | None:
    facts = (event.get("metadata") or {}).get("whatsapp")
    return media_ref(facts.get("media")) if isinstance(facts, dict) else None


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
            media = _customer_media(event)
            # A file shows itself; its caption is the text (the connector put it in facts.text).
            text = str(((event.get("metadata") or {}).get("whatsapp") or {}).get("text") or "") \
                if media else _customer_text(event, last_buttons)
            out.append(Message("customer", text, _when(event), media=media,
                               wamid=event.get("message_id"), order=msg_changes.order_of(event)))
        elif kind == "bot":
            msg = _bot_message(event, templates)
            buttons = (event.get("data") or {}).get("buttons") or []
            last_buttons = {str(b.get("payload")): str(b.get("title", ""))
                            for b in buttons if isinstance(b, dict)}
            if msg.text or msg.buttons or msg.rows or msg.attachment or msg.media:
                out.append(msg)
        elif kind == "pause":
            out.append(Message("system", "Handed over to an agent (bot paused)", _when(event)))
        elif kind == "resume":
            out.append(Message("system", "Bot resumed", _when(event)))
    return msg_changes.apply(out, events, lambda text, at: Message("system", text, at))


def latest_slot(tracker: dict, name: str):
    return (tracker.get("slots") or {}).get(name)
