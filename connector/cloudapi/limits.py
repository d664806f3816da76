"""WhatsApp's size and count limits, checked before anything is sent.

Meta rejects an over-long title with error 100/131009 (or, worse, some clients cut it), so every
limit is checked up front and every problem is reported at once: the author of a response fixes
them all in one go. Nothing here shortens text; that is the author's decision.

Numbers are Meta's published Cloud API limits (they match the maxLength values in the OpenAPI
spec's InteractiveObject schemas, which the tests check our output against).
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from connector.cloudapi import reply_ids

TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_MAX = 60
FOOTER_MAX = 60
CAPTION_MAX = 1024
CAPTIONED_MEDIA = frozenset({"image", "video", "document"})  # audio and stickers take no caption

REPLY_BUTTONS_MIN = 1
REPLY_BUTTONS_MAX = 3
REPLY_TITLE_MAX = 20
REPLY_ID_MAX = 256

LIST_ROWS_MAX = 10  # across all sections
LIST_SECTIONS_MAX = 10
LIST_BUTTON_MAX = 20
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
SECTION_TITLE_MAX = 24

RASA_BUTTONS_MAX = LIST_ROWS_MAX  # more than a list can hold has no WhatsApp form

# Custom payload types the connector passes through (see connector/messages.py).
CUSTOM_TYPES = frozenset(
    {"text", "interactive", "template", "image", "video", "audio", "document", "sticker",
     "location", "reaction", "contacts"}
)


class LimitError(ValueError):
    """A message breaks WhatsApp limits; `problems` lists every one found."""

    def __init__(self, problems: list[str], what: str = "message") -> None:
        self.problems = list(problems)
        super().__init__(f"{what} breaks WhatsApp limits: " + "; ".join(self.problems))


def enforce(problems: list[str], what: str = "message") -> None:
    if problems:
        raise LimitError(problems, what)


def _too_long(label: str, value: Any, limit: int) -> list[str]:
    if not isinstance(value, str):
        return [f"{label} must be a string (got {type(value).__name__})"]
    if len(value) > limit:
        return [f"{label} is {len(value)} characters, limit {limit}: {value[:40]!r}…"]
    return []


def _required(label: str, value: Any, limit: int) -> list[str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return [f"{label} is required and cannot be empty"]
    return _too_long(label, value, limit)


def _duplicates(label: str, values: Iterable[Any]) -> list[str]:
    seen: set = set()
    dupes = []
    for value in values:
        if value in seen and value not in dupes:
            dupes.append(value)
        seen.add(value)
    return [f"duplicate {label} {value!r}" for value in dupes]


def check_text(text: Any, label: str = "text") -> list[str]:
    return _required(label, text, TEXT_MAX)


def check_reply_buttons(buttons: list[Mapping[str, Any]]) -> list[str]:
    """`buttons` are {"id", "title"} pairs (the `reply` objects of a button message)."""
    problems = []
    if not REPLY_BUTTONS_MIN <= len(buttons) <= REPLY_BUTTONS_MAX:
        problems.append(f"reply buttons: {len(buttons)} given, allowed {REPLY_BUTTONS_MIN}–{REPLY_BUTTONS_MAX}")
    for n, button in enumerate(buttons, 1):
        problems += _required(f"button {n} title", button.get("title"), REPLY_TITLE_MAX)
        problems += _required(f"button {n} id", button.get("id"), REPLY_ID_MAX)
        if isinstance(button.get("id"), str) and button["id"] != button["id"].strip():
            problems.append(f"button {n} id has leading/trailing spaces: {button['id']!r}")
    problems += _duplicates("button id", [b.get("id") for b in buttons])
    problems += _duplicates("button title", [b.get("title") for b in buttons])
    return problems


def check_list(button_text: Any, sections: list[Mapping[str, Any]]) -> list[str]:
    problems = _required("list button text", button_text, LIST_BUTTON_MAX)
    if not 1 <= len(sections) <= LIST_SECTIONS_MAX:
        problems.append(f"list sections: {len(sections)} given, allowed 1–{LIST_SECTIONS_MAX}")
    rows: list[Mapping[str, Any]] = []
    for s, section in enumerate(sections, 1):
        if len(sections) > 1:
            problems += _required(f"section {s} title", section.get("title"), SECTION_TITLE_MAX)
        elif section.get("title") is not None:
            problems += _too_long(f"section {s} title", section["title"], SECTION_TITLE_MAX)
        section_rows = section.get("rows") or []
        if not section_rows:
            problems.append(f"section {s} has no rows")
        for r, row in enumerate(section_rows, 1):
            where = f"section {s} row {r}"
            problems += _required(f"{where} title", row.get("title"), ROW_TITLE_MAX)
            problems += _required(f"{where} id", row.get("id"), ROW_ID_MAX)
            if row.get("description") is not None:
                problems += _too_long(f"{where} description", row["description"], ROW_DESCRIPTION_MAX)
        rows += section_rows
    if len(rows) > LIST_ROWS_MAX:
        problems.append(f"list rows: {len(rows)} in total, limit {LIST_ROWS_MAX}")
    problems += _duplicates("row id", [r.get("id") for r in rows])
    problems += _duplicates("row title", [r.get("title") for r in rows])
    return problems


def check_interactive(interactive: Mapping[str, Any]) -> list[str]:
    """Limits of an `interactive` object of type button or list (other types: body/header/footer)."""
    problems: list[str] = []
    kind = interactive.get("type")
    action = interactive.get("action") or {}
    body = interactive.get("body")
    if body is not None or kind in ("button", "list"):
        problems += _required("interactive body", (body or {}).get("text"), INTERACTIVE_BODY_MAX)
    header = interactive.get("header")
    if header and header.get("type", "text") == "text":
        problems += _required("header", header.get("text"), HEADER_MAX)
    if interactive.get("footer") is not None:
        problems += _required("footer", interactive["footer"].get("text"), FOOTER_MAX)
    if kind == "button":
        buttons = action.get("buttons") or []
        problems += [f"button {n}: type must be 'reply'" for n, b in enumerate(buttons, 1)
                     if b.get("type") != "reply"]
        problems += check_reply_buttons([b.get("reply") or {} for b in buttons])
    elif kind == "list":
        problems += check_list(action.get("button"), action.get("sections") or [])
    elif kind is None:
        problems.append("interactive type is required")
    return problems


def check_body(body: Mapping[str, Any]) -> list[str]:
    """Limits of a Cloud API send body we built or passed through."""
    kind = body.get("type", "text")
    if kind not in CUSTOM_TYPES:
        return [f"message type {kind!r} is not supported here (allowed: {', '.join(sorted(CUSTOM_TYPES))})"]
    content = body.get(kind)
    if not isinstance(content, Mapping):
        return [f"a {kind!r} message needs a {kind!r} object"]
    if kind == "text":
        return check_text(content.get("body"), "text body")
    if kind == "interactive":
        return check_interactive(content)
    if kind in CAPTIONED_MEDIA and content.get("caption") is not None:
        return _too_long(f"{kind} caption", content["caption"], CAPTION_MAX)
    return []


def validate_rasa_response(response: Mapping[str, Any]) -> list[str]:
    """Problems that would stop one domain response variation from reaching WhatsApp.

    Used by `make validate` on every shipped response, with the same rules the connector applies
    when sending (connector/messages.py), so what validates is what goes out.
    """
    channel = response.get("channel")
    if channel not in (None, "whatsapp"):
        return []
    problems: list[str] = []
    text = response.get("text")
    buttons = response.get("buttons") or response.get("quick_replies") or []
    if text is not None and not isinstance(text, str):
        problems.append(f"text must be a string (got {type(text).__name__})")
    elif buttons:
        problems += _required("text shown with buttons", text, INTERACTIVE_BODY_MAX)
    elif text is not None and not text.strip():
        problems.append("text is empty")
    if buttons:
        problems += check_rasa_buttons(buttons)
    image = response.get("image")
    if image is not None and not (isinstance(image, str) and image.startswith(("https://", "http://"))):
        problems.append(f"image must be an http(s) URL (got {image!r})")
    custom = response.get("custom")
    if custom is not None:
        problems += check_custom(custom)
    if text is None and not buttons and image is None and custom is None:
        problems.append("response has nothing WhatsApp can send (text, buttons, image or custom)")
    return problems


def check_rasa_buttons(buttons: list[Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(buttons) > RASA_BUTTONS_MAX:
        return [f"{len(buttons)} buttons; WhatsApp shows at most {RASA_BUTTONS_MAX} (as a list)"]
    as_reply = len(buttons) <= REPLY_BUTTONS_MAX
    title_max = REPLY_TITLE_MAX if as_reply else ROW_TITLE_MAX
    # The id sent is the payload plus its tag (connector/cloudapi/reply_ids.py).
    id_max = (REPLY_ID_MAX if as_reply else ROW_ID_MAX) - reply_ids.OVERHEAD
    shape = "reply button" if as_reply else "list row"
    for n, button in enumerate(buttons, 1):
        problems += _required(f"{shape} {n} title", button.get("title"), title_max)
        problems += _required(f"{shape} {n} payload", button_id(button), id_max)
        if not as_reply and button.get("description") is not None:
            problems += _too_long(f"{shape} {n} description", button["description"], ROW_DESCRIPTION_MAX)
    problems += _duplicates(f"{shape} payload", [button_id(b) for b in buttons])
    problems += _duplicates(f"{shape} title", [b.get("title") for b in buttons])
    return problems


def button_id(button: Mapping[str, Any]) -> Any:
    """What a Rasa button's reply id carries back: its payload (the title when it has none)."""
    payload = button.get("payload")
    return payload if payload not in (None, "") else button.get("title")


def check_custom(custom: Any) -> list[str]:
    if not isinstance(custom, Mapping):
        return [f"custom must be a mapping (got {type(custom).__name__})"]
    kind = custom_type(custom)
    if kind is None:
        return [f"custom needs a 'type' (one of {', '.join(sorted(CUSTOM_TYPES))}) and its object"]
    return check_body({**custom, "type": kind})


def custom_type(custom: Mapping[str, Any]) -> str | None:
    """The message type of a `custom` payload: its `type`, or its single known key."""
    kind = custom.get("type")
    if kind is None:
        keys = [k for k in custom if k in CUSTOM_TYPES]
        kind = keys[0] if len(keys) == 1 else None
    return kind if kind in CUSTOM_TYPES else None


# Media (Meta's "Supported media types" in the Cloud API reference): for each message type the
# MIME types WhatsApp takes and the largest file. Stickers are WebP only: 100 KB static, 500 KB
# animated. Audio/ogg is accepted with the OPUS codec only (Meta cannot be asked which codec a
# file has before it is uploaded; Meta refuses the upload otherwise).
KB, MB = 1024, 1024 * 1024
MEDIA_TYPES: dict[str, dict[str, int]] = {
    "image": {"image/jpeg": 5 * MB, "image/png": 5 * MB},
    "video": {"video/mp4": 16 * MB, "video/3gpp": 16 * MB},
    "audio": {m: 16 * MB for m in ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")},
    "document": {m: 100 * MB for m in (
        "application/pdf", "text/plain", "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation")},
    "sticker": {"image/webp": 100 * KB},
}
ANIMATED_STICKER_MAX = 500 * KB


def media_kind(mime_type: str | None) -> str | None:
    """The message type a file of this MIME type is sent as; None when WhatsApp takes none."""
    base = (mime_type or "").split(";")[0].strip().lower()
    return next((kind for kind, types in MEDIA_TYPES.items() if base in types), None)


def media_max_bytes(kind: str, mime_type: str, *, animated: bool = False) -> int:
    if kind == "sticker" and animated:
        return ANIMATED_STICKER_MAX
    return MEDIA_TYPES[kind][mime_type.split(";")[0].strip().lower()]


def check_media(mime_type: str | None, size: int, *, caption: str | None = None,
                animated: bool = False) -> list[str]:
    """Every reason WhatsApp would refuse this file as a media message (before any upload)."""
    kind = media_kind(mime_type)
    if kind is None:
        allowed = ", ".join(sorted(m for types in MEDIA_TYPES.values() for m in types))
        return [f"WhatsApp does not take files of type {mime_type or 'unknown'} (allowed: {allowed})"]
    problems = []
    limit = media_max_bytes(kind, mime_type, animated=animated)
    if size <= 0:
        problems.append("the file is empty")
    elif size > limit:
        problems.append(f"the file is {_size(size)}; WhatsApp takes {kind}s of type "
                        f"{mime_type} up to {_size(limit)}")
    if caption:
        if kind not in CAPTIONED_MEDIA:
            problems.append(f"a {kind} cannot carry a caption on WhatsApp")
        else:
            problems += _too_long("caption", caption, CAPTION_MAX)
    return problems


def is_animated_webp(data: bytes) -> bool:
    """A WebP with the animation flag in its extended header (RIFF....WEBPVP8X, flags byte)."""
    return data[:4] == b"RIFF" and data[8:16] == b"WEBPVP8X" and len(data) > 20 and bool(data[20] & 0x02)


def check_file(mime_type: str | None, data: bytes, caption: str | None = None) -> list[str]:
    """check_media for the bytes of a file (its size, and for a WebP whether it is animated)."""
    return check_media(mime_type, len(data), caption=caption, animated=is_animated_webp(data))


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / KB:.0f} KB"


# The business profile (POST /{phone-number-id}/whatsapp_business_profile). Meta's reference
# gives the description 512 characters (the v23.0 OpenAPI file says 256; Meta's API and its
# reference page accept 512); the rest agree.
PROFILE_ABOUT_MAX = 139
PROFILE_ADDRESS_MAX = 256
PROFILE_DESCRIPTION_MAX = 512
PROFILE_EMAIL_MAX = 128
PROFILE_WEBSITES_MAX = 2
PROFILE_WEBSITE_MAX = 256
PROFILE_VERTICALS = (
    "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN", "FINANCE", "GROCERY",
    "GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL", "TRAVEL", "RESTAURANT",
    "ALCOHOL", "ONLINE_GAMBLING", "PHYSICAL_GAMBLING", "OTC_DRUGS")
PROFILE_FIELDS = ("about", "address", "description", "email", "websites", "vertical",
                  "profile_picture_handle")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_business_profile(fields: Mapping[str, Any]) -> list[str]:
    """Every way `fields` (the update's fields, without messaging_product) breaks Meta's rules."""
    problems = [f"unknown field {name!r} (allowed: {', '.join(PROFILE_FIELDS)})"
                for name in fields if name not in PROFILE_FIELDS]
    if "about" in fields:
        problems += _required("about", fields["about"], PROFILE_ABOUT_MAX)
    for name, limit in (("address", PROFILE_ADDRESS_MAX), ("description", PROFILE_DESCRIPTION_MAX),
                        ("email", PROFILE_EMAIL_MAX), ("profile_picture_handle", 1024)):
        if name in fields:
            problems += _too_long(name, fields[name], limit)
    email = fields.get("email")
    if isinstance(email, str) and email and not _EMAIL.match(email):
        problems.append(f"email {email!r} is not an email address")
    websites = fields.get("websites", [])
    if not isinstance(websites, list):
        problems.append("websites must be a list of URLs")
    else:
        if len(websites) > PROFILE_WEBSITES_MAX:
            problems.append(f"websites has {len(websites)} URLs, limit {PROFILE_WEBSITES_MAX}")
        for i, site in enumerate(websites, 1):
            problems += _too_long(f"website {i}", site, PROFILE_WEBSITE_MAX)
            if isinstance(site, str) and not site.startswith(("http://", "https://")):
                problems.append(f"website {i} {site!r} must start with http:// or https://")
    vertical = fields.get("vertical")
    if vertical is not None and vertical not in PROFILE_VERTICALS:
        problems.append(f"vertical {vertical!r} is not one of {', '.join(PROFILE_VERTICALS)}")
    return problems
