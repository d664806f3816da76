"""What the Cloud API accepts on POST /messages: types, required fields, limits. Templates are
checked against what this account has approved (templates.py).

The limits are Meta's published ones, written out here on purpose: the emulator must enforce
them even where ../shared (the spec) is absent, and a test compares them against the spec.
"""
from __future__ import annotations

import re
from typing import Any

from .errors import ApiError, bad_param, invalid, missing
from .templates import TemplateStore

TEXT_BODY_MAX = 4096
CAPTION_MAX = 1024
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60
BUTTONS_MIN, BUTTONS_MAX = 1, 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
SECTION_TITLE_MAX = 24
CTA_DISPLAY_TEXT_MAX = 20

MEDIA_TYPES = ("image", "audio", "document", "video", "sticker")
SUPPORTED_TYPES = ("text", *MEDIA_TYPES, "location", "contacts", "reaction", "interactive",
                   "template")
# Flows, catalogs and payments need Meta-side objects the emulator does not model.
SUPPORTED_INTERACTIVE = ("button", "list", "cta_url")

BSUID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9_-]{6,}$")

def _obj(body: Any, name: str) -> dict:
    if body is None:
        raise missing(name)
    if not isinstance(body, dict):
        raise bad_param(f"Param {name} must be a JSON object.")
    return body


def _str(container: dict, key: str, path: str, *, max_len: int | None = None,
         required: bool = True, min_len: int = 1) -> str | None:
    value = container.get(key)
    if value is None:
        if required:
            raise missing(path)
        return None
    if not isinstance(value, str):
        raise bad_param(f"Param {path} must be a string.")
    if len(value.strip()) < min_len:
        if required:
            raise missing(path)
        raise invalid(f"Param {path} must not be empty.")
    if max_len is not None and len(value) > max_len:
        raise invalid(f"Param {path} is too long. Max length: {max_len}, actual length: {len(value)}")
    return value


def normalize_phone(raw: str) -> str:
    digits = re.sub(r"[\s\-().+]", "", raw)
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise invalid("Invalid WhatsApp recipient phone number: the 'to' field must be a phone "
                      "number in international format (7-15 digits).")
    return digits


def validate_send(body: Any, templates: TemplateStore) -> dict:
    """Check a POST /messages body as Meta would; return what the caller needs to act on it.

    Returns {"kind": "receipt", "message_id", "typing"} or
    {"kind": "message", "type", "to" | "user_id", "template"?}.
    """
    if not isinstance(body, dict):
        raise bad_param("The request body must be a JSON object.")
    product = body.get("messaging_product")
    if product is None:
        raise ApiError(100, "The parameter messaging_product is required.",
                       message="(#100) The parameter messaging_product is required.")
    if product != "whatsapp":
        raise ApiError(100, "Param messaging_product must be 'whatsapp'.",
                       message="(#100) Param messaging_product must be one of {WHATSAPP} - got "
                               f"\"{product}\".")

    if "status" in body:
        return _validate_receipt(body)

    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise bad_param("Only recipient_type 'individual' is supported (groups are not emulated).")

    result: dict[str, Any] = {"kind": "message"}
    to, user_id = body.get("to"), body.get("recipient")
    if to is None and user_id is None:
        raise missing("to")
    if to is not None:
        if not isinstance(to, str):
            raise bad_param("Param to must be a string.")
        result["to"] = normalize_phone(to)
        result["input"] = to
    else:
        if not isinstance(user_id, str) or not BSUID.match(user_id):
            raise invalid("Param recipient must be a business-scoped user ID such as 'US.13491208655302741918'.")
        result["user_id"] = user_id
        result["input"] = user_id

    # Meta treats a body without `type` as text (see its "preview URL" example).
    msg_type = body.get("type", "text")
    if msg_type not in SUPPORTED_TYPES:
        raise bad_param(f"Param type must be one of {{{', '.join(t.upper() for t in SUPPORTED_TYPES)}}} "
                        f"- got \"{msg_type}\".")
    result["type"] = msg_type

    context = body.get("context")
    if context is not None:
        _str(_obj(context, "context"), "message_id", "context['message_id']")

    content = body.get(msg_type)
    if msg_type == "text":
        text = _obj(content, "text")
        _str(text, "body", "text['body']", max_len=TEXT_BODY_MAX)
        if "preview_url" in text and not isinstance(text["preview_url"], bool):
            raise bad_param("Param text['preview_url'] must be a boolean.")
    elif msg_type in MEDIA_TYPES:
        _validate_media(_obj(content, msg_type), msg_type)
    elif msg_type == "location":
        _validate_location(_obj(content, "location"))
    elif msg_type == "contacts":
        _validate_contacts(content)
    elif msg_type == "reaction":
        reaction = _obj(content, "reaction")
        _str(reaction, "message_id", "reaction['message_id']")
        if "emoji" not in reaction:
            raise missing("reaction['emoji']")
        if not isinstance(reaction["emoji"], str) or len(reaction["emoji"]) > 10:
            raise invalid("Param reaction['emoji'] must be a single emoji (or empty to remove).")
    elif msg_type == "interactive":
        _validate_interactive(_obj(content, "interactive"))
    elif msg_type == "template":
        result["template"] = _validate_template(_obj(content, "template"), templates)
    return result


def _validate_receipt(body: dict) -> dict:
    if body.get("status") != "read":
        raise invalid("Param status must be 'read'.")
    message_id = _str(body, "message_id", "message_id")
    typing = body.get("typing_indicator")
    if typing is not None:
        if not isinstance(typing, dict):
            raise bad_param("Param typing_indicator must be a JSON object.")
        if typing.get("type") != "text":
            raise invalid("Param typing_indicator['type'] must be 'text'.")
    return {"kind": "receipt", "message_id": message_id, "typing": typing is not None}


def _validate_media(media: dict, kind: str) -> None:
    has_id, has_link = media.get("id") is not None, media.get("link") is not None
    if not has_id and not has_link:
        raise missing(f"{kind}['id'] or {kind}['link']")
    if has_id and has_link:
        raise bad_param(f"Param {kind} must have either 'id' or 'link', not both.")
    key = "id" if has_id else "link"
    _str(media, key, f"{kind}['{key}']")
    if "caption" in media:
        if kind in ("audio", "sticker"):
            raise bad_param(f"Param {kind}['caption'] is not supported for {kind} messages.")
        _str(media, "caption", f"{kind}['caption']", max_len=CAPTION_MAX, required=False, min_len=0)


def _validate_location(loc: dict) -> None:
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = loc.get(key)
        if value is None:
            raise missing(f"location['{key}']")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise invalid(f"Param location['{key}'] must be a number.") from None
        if not -bound <= number <= bound:
            raise invalid(f"Param location['{key}'] must be between -{bound} and {bound}.")


def _validate_contacts(contacts: Any) -> None:
    if contacts is None:
        raise missing("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise invalid("Param contacts must be a non-empty array.")
    for i, contact in enumerate(contacts):
        name = _obj(_obj(contact, f"contacts[{i}]").get("name"), f"contacts[{i}]['name']")
        _str(name, "formatted_name", f"contacts[{i}]['name']['formatted_name']")


def _text_part(parent: dict, key: str, max_len: int, *, required: bool) -> None:
    part = parent.get(key)
    if part is None:
        if required:
            raise missing(f"interactive['{key}']")
        return
    _str(_obj(part, f"interactive['{key}']"), "text", f"interactive['{key}']['text']", max_len=max_len)


def _validate_interactive(inter: dict) -> None:
    kind = inter.get("type")
    if kind is None:
        raise missing("interactive['type']")
    if kind not in SUPPORTED_INTERACTIVE:
        raise bad_param(f"Interactive type '{kind}' is not supported by the emulator "
                        f"(supported: {', '.join(SUPPORTED_INTERACTIVE)}).")
    action = _obj(inter.get("action"), "interactive['action']")
    _text_part(inter, "body", INTERACTIVE_BODY_MAX, required=kind in ("button", "list", "cta_url"))
    _text_part(inter, "footer", FOOTER_TEXT_MAX, required=False)
    header = inter.get("header")
    if header is not None:
        header = _obj(header, "interactive['header']")
        htype = header.get("type")
        if htype is None:
            raise missing("interactive['header']['type']")
        allowed = ("text",) if kind == "list" else ("text", "image", "video", "document")
        if htype not in allowed:
            raise invalid(f"Header type '{htype}' is not valid for {kind} messages.")
        if htype == "text":
            _str(header, "text", "interactive['header']['text']", max_len=HEADER_TEXT_MAX)
        else:
            _validate_media(_obj(header.get(htype), f"interactive['header']['{htype}']"), htype)

    if kind == "button":
        buttons = action.get("buttons")
        if buttons is None:
            raise missing("interactive['action']['buttons']")
        if not isinstance(buttons, list) or not BUTTONS_MIN <= len(buttons) <= BUTTONS_MAX:
            raise invalid(f"Invalid buttons count. Min allowed buttons: {BUTTONS_MIN}, "
                          f"Max allowed buttons: {BUTTONS_MAX}")
        ids, titles = set(), set()
        for i, button in enumerate(buttons):
            button = _obj(button, f"buttons[{i}]")
            if button.get("type") != "reply":
                raise invalid(f"Param buttons[{i}]['type'] must be 'reply'.")
            reply = _obj(button.get("reply"), f"buttons[{i}]['reply']")
            title = reply.get("title")
            if not isinstance(title, str) or not 1 <= len(title) <= BUTTON_TITLE_MAX:
                raise invalid(f"Button title length invalid. Min length: 1, Max length: {BUTTON_TITLE_MAX}")
            bid = reply.get("id")
            if not isinstance(bid, str) or not 1 <= len(bid) <= BUTTON_ID_MAX:
                raise invalid(f"Button id length invalid. Min length: 1, Max length: {BUTTON_ID_MAX}")
            if bid in ids:
                raise invalid("Button ids must be unique.")
            if title in titles:
                raise invalid("Button titles must be unique.")
            ids.add(bid)
            titles.add(title)
    elif kind == "list":
        button = action.get("button")
        if not isinstance(button, str) or not button:
            raise missing("interactive['action']['button']")
        if len(button) > LIST_BUTTON_MAX:
            raise invalid(f"Button title length invalid. Min length: 1, Max length: {LIST_BUTTON_MAX}")
        sections = action.get("sections")
        if sections is None:
            raise missing("interactive['action']['sections']")
        if not isinstance(sections, list) or not 1 <= len(sections) <= LIST_SECTIONS_MAX:
            raise invalid(f"Invalid sections count. Min: 1, Max: {LIST_SECTIONS_MAX}")
        rows_total, ids = 0, set()
        for s, section in enumerate(sections):
            section = _obj(section, f"sections[{s}]")
            title = section.get("title")
            if title is None and len(sections) > 1:
                raise missing(f"sections[{s}]['title'] (required when there is more than one section)")
            if title is not None and (not isinstance(title, str) or len(title) > SECTION_TITLE_MAX):
                raise invalid(f"Section title length invalid. Max length: {SECTION_TITLE_MAX}")
            rows = section.get("rows")
            if not isinstance(rows, list) or not rows:
                raise missing(f"sections[{s}]['rows']")
            for r, row in enumerate(rows):
                row = _obj(row, f"sections[{s}]['rows'][{r}]")
                rid = row.get("id")
                if not isinstance(rid, str) or not 1 <= len(rid) <= ROW_ID_MAX:
                    raise invalid(f"Row id length invalid. Min length: 1, Max length: {ROW_ID_MAX}")
                if rid in ids:
                    raise invalid("Row ids must be unique across all sections.")
                ids.add(rid)
                rtitle = row.get("title")
                if not isinstance(rtitle, str) or not 1 <= len(rtitle) <= ROW_TITLE_MAX:
                    raise invalid(f"Row title length invalid. Min length: 1, Max length: {ROW_TITLE_MAX}")
                desc = row.get("description")
                if desc is not None and (not isinstance(desc, str) or len(desc) > ROW_DESCRIPTION_MAX):
                    raise invalid(f"Row description length invalid. Max length: {ROW_DESCRIPTION_MAX}")
            rows_total += len(rows)
        if rows_total > LIST_ROWS_MAX:
            raise invalid(f"Invalid rows count. Total rows across sections must be at most "
                          f"{LIST_ROWS_MAX}, got {rows_total}.")
    elif kind == "cta_url":
        if action.get("name") != "cta_url":
            raise invalid("Param interactive['action']['name'] must be 'cta_url'.")
        params = _obj(action.get("parameters"), "interactive['action']['parameters']")
        _str(params, "display_text", "interactive['action']['parameters']['display_text']",
             max_len=CTA_DISPLAY_TEXT_MAX)
        _str(params, "url", "interactive['action']['parameters']['url']")


def _validate_template(template: dict, templates: TemplateStore) -> dict:
    _str(template, "name", "template['name']")
    _str(_obj(template.get("language"), "template['language']"), "code", "template['language']['code']")
    return templates.check(template)
