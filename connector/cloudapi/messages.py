"""Pure builders: Rasa output → Cloud API `/messages` request bodies. No I/O, no state.

Rasa buttons become WhatsApp reply buttons (1–3) or a one-section list (4–10), and the button id
is the Rasa payload tagged as ours (reply_ids.py), so the inbound side can hand the reply back to
Rasa as that same payload and refuse payloads in ids it did not make. The tagging key is the one
thing read from the environment (WHATSAPP_APP_SECRET).
Every body is checked against connector/limits.py before it is returned: a builder either gives
something Meta will accept or raises LimitError naming every problem.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from connector.cloudapi import limits, reply_ids
from connector.cloudapi.limits import LimitError, button_id, custom_type

DEFAULT_LANGUAGE = "es"
LIST_BUTTON_LABELS = {"es": "Ver opciones", "en": "Options"}

# A sentence ends at . ! ? … (possibly followed by closing quotes/brackets) and then whitespace.
_SENTENCE_END = re.compile(r"[.!?…][\"'»”’)\]]*\s+")
_WHITESPACE = re.compile(r"\s+")


Address = str | Mapping[str, str]


def envelope(to: Address, kind: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """`to` is a wa_id, or addressing fields such as {"recipient": "US.…"} for a BSUID."""
    address = {"to": to} if isinstance(to, str) else dict(to)
    return {"messaging_product": "whatsapp", "recipient_type": "individual", **address,
            "type": kind, kind: dict(content)}


def split_text(text: str, limit: int = limits.TEXT_MAX) -> list[str]:
    """Cut `text` into chunks of at most `limit` characters.

    Prefers, in order, a paragraph break, a line break, a sentence end and a space, using the
    last one that still leaves the chunk at least half full (so a stray early break does not
    yield a tiny message); only a single word longer than the limit is cut mid-word.
    """
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        chunk, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if chunk:
            chunks.append(chunk)
    if rest:
        chunks.append(rest)
    return chunks


def _cut_point(text: str, limit: int) -> int:
    window = text[: limit + 1]  # a break right after the limit still lets the chunk be full
    floor = limit // 2
    for pattern in ("\n\n", "\n"):
        at = window.rfind(pattern)
        if at >= floor:
            return at
    ends = [m.end() for m in _SENTENCE_END.finditer(window) if floor <= m.start() < limit]
    if ends:
        return min(ends[-1], limit)
    spaces = [m.start() for m in _WHITESPACE.finditer(window) if 0 < m.start() <= limit]
    if spaces:
        return spaces[-1]
    return limit


def text_bodies(to: Address, text: str, *, preview_url: bool | None = None) -> list[dict[str, Any]]:
    if not isinstance(text, str) or not text.strip():
        raise LimitError(["text is required and cannot be empty"], "text message")
    bodies = []
    for chunk in split_text(text):
        content: dict[str, Any] = {"body": chunk}
        if preview_url is not None:
            content["preview_url"] = preview_url
        bodies.append(envelope(to, "text", content))
    return bodies


def list_button_label(language: str | None) -> str:
    base = (language or DEFAULT_LANGUAGE).split("-")[0].split("_")[0].lower()
    return LIST_BUTTON_LABELS.get(base, LIST_BUTTON_LABELS[DEFAULT_LANGUAGE])


def buttons_body(
    to: Address,
    text: str,
    buttons: list[Mapping[str, Any]],
    *,
    language: str | None = None,
    header: str | None = None,
    footer: str | None = None,
    list_button: str | None = None,
    id_key: bytes | None = None,
) -> dict[str, Any]:
    """Rasa text + buttons → one interactive message (reply buttons for 1–3, a list for 4–10).
    `id_key` tags the ids (reply_ids.py); None = the key from the environment."""
    problems = limits.check_rasa_buttons(buttons) if buttons else ["no buttons given"]
    limits.enforce(problems, "buttons")
    key = id_key or reply_ids.key()
    if len(buttons) <= limits.REPLY_BUTTONS_MAX:
        action: dict[str, Any] = {"buttons": [
            {"type": "reply", "reply": {"id": reply_ids.tag(button_id(b), key), "title": b["title"]}}
            for b in buttons
        ]}
        kind = "button"
    else:
        rows = []
        for b in buttons:
            row = {"id": reply_ids.tag(button_id(b), key), "title": b["title"]}
            if b.get("description"):
                row["description"] = b["description"]
            rows.append(row)
        action = {"button": list_button or list_button_label(language), "sections": [{"rows": rows}]}
        kind = "list"
    interactive: dict[str, Any] = {"type": kind, "body": {"text": text}, "action": action}
    if header:
        interactive["header"] = {"type": "text", "text": header}
    if footer:
        interactive["footer"] = {"text": footer}
    limits.enforce(limits.check_interactive(interactive), f"interactive {kind}")
    return envelope(to, "interactive", interactive)


def image_body(to: Address, url: str, caption: str | None = None) -> dict[str, Any]:
    if not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        raise LimitError([f"image must be an http(s) URL (got {url!r})"], "image")
    content = {"link": url}
    if caption:
        content["caption"] = caption
    body = envelope(to, "image", content)
    limits.enforce(limits.check_body(body), "image")
    return body


def custom_body(to: Address, custom: Mapping[str, Any]) -> dict[str, Any]:
    """A Rasa `custom` payload → send body.

    Accepted shapes: `{"type": "location", "location": {...}}` or just `{"location": {...}}`
    (types: limits.CUSTOM_TYPES). `to`, `messaging_product` and `recipient_type` are ours;
    `context` (reply-to) is kept. Interactive payloads get the same limit checks as built ones.
    """
    limits.enforce(limits.check_custom(custom), "custom message")
    kind = custom_type(custom)
    body = envelope(to, kind, custom[kind])
    if isinstance(custom.get("context"), Mapping):
        body["context"] = dict(custom["context"])
    return body


def template_body(to: Address, name: str, language: str, components: list[dict] | None = None) -> dict[str, Any]:
    """An approved template: the only kind of message allowed outside the 24 h window."""
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = components
    return envelope(to, "template", template)


def read_receipt_body(message_id: str, typing: bool = True) -> dict[str, Any]:
    """Marks the customer's message read and (optionally) shows "typing…" for up to 25 s."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing:
        body["typing_indicator"] = {"type": "text"}
    return body


def is_free_form(body: Mapping[str, Any]) -> bool:
    """Whether the 24 h window applies: everything except templates and read receipts."""
    return body.get("type") != "template" and body.get("status") != "read"
