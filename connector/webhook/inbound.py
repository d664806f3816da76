"""Webhook bodies → typed, immutable events (connector/webhook/types.py). Pure functions: no
Redis, no network.

Meta's payload is nested (object → entry[] → changes[] → value → messages[]/statuses[]) and
grows new fields and message types all the time, so parsing is lenient: an unknown message
type becomes kind "unknown", a change for another field is reported as ignored, and only a
body that is not a WhatsApp webhook at all raises PayloadError (InvalidJSON: not even JSON).
A malformed message or status (no id, no sender, a number that overflows, nesting too deep to
store) is rejected on its own and the rest of its batch accepted: Meta would only redeliver
the same bytes. Absurd times become None, and customer text is cut to WhatsApp's limit.

Group events (`group_lifecycle_update`, `group_participants_update`, `group_settings_update`,
and messages carrying a `group_id`) are acknowledged and ignored with a log line: this bot
answers customers one to one, and a reply in a group would go to every participant.

pywa's update classes were read for the shape of each type but are not used: they need a
WhatsApp client object, parse only the first entry/change/message, and index contacts[0],
which is absent for system messages and must not be assumed for business-scoped users.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any, Iterator, Mapping

from connector.cloudapi.limits import TEXT_MAX
from connector.webhook import account
from connector.webhook import message_events
from connector.webhook import template_events
from connector.webhook.types import (
    MEDIA_KINDS, Context, ErrorInfo, Ignored, InboundMessage, Location, Media, Order, OrderItem,
    PreferenceUpdate, Reaction, Referral, Rejected, Sender, SharedContact, StatusUpdate, WebhookBatch,
)

WABA_OBJECT = "whatsapp_business_account"
MESSAGES_FIELD = "messages"
PREFERENCES_FIELD = "user_preferences"

# Meta's messages nest about six levels; Python's json and Redis's cjson (which the queue's Lua
# scripts decode items with) give up near 1000, so a stored message must stay far below that.
MAX_DEPTH = 32
# Unix seconds, [1970, 3000): no real webhook is dated outside, and the bound keeps the date
# arithmetic done later (24 h window, TTLs) clear of datetime's year-9999 ceiling.
TIME_RANGE = (0, 32503680000)
# What a customer typed or tapped, and what NLU reads: WhatsApp sends at most TEXT_MAX
# characters, and NLU on more would stall the worker's event loop for seconds.
CUSTOMER_TEXT = ("text", "payload", "description")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class PayloadError(ValueError):
    """The body is JSON but not a WhatsApp Business webhook we can read."""


class InvalidJSON(PayloadError):
    """The body is not JSON (RFC 8259: UTF-8, no NaN/Infinity) that we can decode."""


def load(body: bytes) -> Any:
    """The decoded body, with lone surrogates (only \\u escapes can make them) replaced by U+FFFD:
    they have no UTF-8 form, so Redis and every later encoder would refuse them."""
    try:
        text = body.decode("utf-8")
        payload = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidJSON("nested too deeply") from None
    except InvalidJSON:
        raise
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        raise InvalidJSON(str(exc)) from None
    # Strict UTF-8 cannot carry surrogates, so only a body with such an escape needs the walk.
    return _without_surrogates(payload) if _SURROGATE_ESCAPE.search(text) else payload


def _no_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not JSON")


def _without_surrogates(root: Any) -> Any:
    if isinstance(root, str):
        return _SURROGATE.sub("\ufffd", root)
    # Iterative: the body may nest as deep as json.loads allows, deeper than we may recurse.
    stack = [root] if isinstance(root, (dict, list)) else []
    while stack:
        node = stack.pop()
        pairs = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        if isinstance(node, dict):
            node.clear()
        for key, value in pairs:
            if isinstance(value, str):
                value = _SURROGATE.sub("\ufffd", value)
            elif isinstance(value, (dict, list)):
                stack.append(value)
            node[_SURROGATE.sub("\ufffd", key) if isinstance(key, str) else key] = value
    return root


def parse_webhook(payload: Any) -> WebhookBatch:
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    obj = payload.get("object")
    if obj != WABA_OBJECT:
        return WebhookBatch(ignored=(Ignored("object", f"object {_short(obj)} is not {WABA_OBJECT}"),))
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("'entry' must be a list")
    batch: dict[str, list] = {"messages": [], "statuses": [], "preferences": [], "account": [],
                              "ignored": [], "rejected": [], "errors": []}
    for entry in entries:
        for change in _dicts(entry.get("changes") if isinstance(entry, dict) else None):
            name = _short(change.get("field"))
            value = change.get("value")
            if name in template_events.FIELDS:
                template_events.parse(name, value, entry, batch, text=_str, time=_time)
                continue
            if name not in (MESSAGES_FIELD, PREFERENCES_FIELD, *account.FIELDS):
                batch["ignored"].append(Ignored(name, f"field {name!r} is not handled by the FAQ bot"))
                continue
            if not isinstance(value, dict):
                batch["ignored"].append(Ignored(name, "change without a value object"))
                continue
            if name == PREFERENCES_FIELD:
                _parse_preferences(value, batch)
            elif name in account.FIELDS:
                account.parse_change(name, value, entry, batch)
            else:
                _parse_value(value, batch)
            batch["errors"].extend(_errors(value.get("errors")))
    return WebhookBatch(**{kind: tuple(items) for kind, items in batch.items()})


def _parse_value(value: dict, batch: dict[str, list]) -> None:
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    contacts = list(_dicts(value.get("contacts")))
    for raw in _objects(value, "messages", batch["rejected"]):
        if raw.get("group_id"):
            batch["ignored"].append(Ignored(MESSAGES_FIELD, "group message (the bot only answers 1:1 chats)"))
            continue
        envelope = {"message": raw, "contact": _contact_for(raw, contacts), "metadata": metadata}
        try:
            _check_storable(envelope)
            batch["messages"].append(parse_envelope(envelope))
        except PayloadError as exc:
            batch["rejected"].append(Rejected(_str(raw.get("id")), str(exc)))
    for raw in _objects(value, "statuses", batch["rejected"]):
        if raw.get("recipient_type") == "group" or raw.get("group_id"):
            batch["ignored"].append(Ignored(MESSAGES_FIELD, "status of a group message"))
            continue
        status = _status(raw, metadata)
        if status is None:
            batch["rejected"].append(Rejected(_str(raw.get("id")), "status without id or status"))
        else:
            batch["statuses"].append(status)


def _parse_preferences(value: dict, batch: dict[str, list]) -> None:
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    for raw in _objects(value, PREFERENCES_FIELD, batch["rejected"]):
        wa_id, category, choice = _str(raw.get("wa_id")), _str(raw.get("category")), _str(raw.get("value"))
        if not (wa_id and category and choice):
            batch["rejected"].append(Rejected(None, "user preference without wa_id, category or value"))
            continue
        batch["preferences"].append(PreferenceUpdate(
            wa_id=wa_id, category=category, value=choice.lower(), timestamp=_time(raw.get("timestamp")),
            detail=_str(raw.get("detail")), phone_number_id=_str(metadata.get("phone_number_id"))))


def _objects(value: dict, name: str, rejected: list) -> Iterator[dict]:
    items = value.get(name)
    if items is None:
        return
    if not isinstance(items, list):
        rejected.append(Rejected(None, f"{name!r} is not a list"))
        return
    for item in items:
        if isinstance(item, dict):
            yield item
        else:
            rejected.append(Rejected(None, f"an item of {name!r} is not an object"))


def _check_storable(envelope: dict) -> None:
    """Refuse what the queue could not store as JSON that the worker and cjson decode."""
    stack = [(envelope, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PayloadError(f"nested deeper than {MAX_DEPTH} levels")
        for value in node.values() if isinstance(node, dict) else node:
            if isinstance(value, float) and not math.isfinite(value):
                raise PayloadError("a number too large for JSON (it decodes to infinity)")
            if isinstance(value, (dict, list)):
                stack.append((value, depth + 1))


def _contact_for(message: dict, contacts: list[dict]) -> dict | None:
    """The contact entry describing this message's sender, matched by id, never by position
    alone: system messages have no contacts, and a batch may carry several senders."""
    wa_id, user_id = message.get("from"), message.get("from_user_id")
    for contact in contacts:
        if (wa_id and contact.get("wa_id") == wa_id) or (user_id and contact.get("user_id") == user_id):
            return contact
    return contacts[0] if len(contacts) == 1 and not (wa_id and user_id) else None


def parse_envelope(envelope: Mapping[str, Any]) -> InboundMessage:
    """One message as stored in the queue: {"message", "contact", "metadata"}."""
    raw = envelope.get("message")
    if not isinstance(raw, dict):
        raise PayloadError("message is not an object")
    contact = envelope.get("contact") if isinstance(envelope.get("contact"), dict) else {}
    metadata = envelope.get("metadata") if isinstance(envelope.get("metadata"), dict) else {}
    wamid = _str(raw.get("id"))
    if not wamid:
        raise PayloadError("message without an id cannot be deduplicated")
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    sender = Sender(
        wa_id=_str(raw.get("from")) or _str(contact.get("wa_id")),
        user_id=_str(raw.get("from_user_id")) or _str(contact.get("user_id")),
        name=_str(profile.get("name")),
    )
    if not sender.key:
        raise PayloadError(f"message {_short(wamid)} has no sender id")
    raw_type = _str(raw.get("type")) or "unknown"
    base = dict(
        wamid=wamid, raw_type=raw_type, sender=sender,
        timestamp=_time(raw.get("timestamp")),
        phone_number_id=_str(metadata.get("phone_number_id")),
        errors=tuple(_errors(raw.get("errors"))),
        context=_context(raw.get("context")),
        referral=_referral(raw.get("referral")),
        envelope=dict(envelope),
    )
    content = _content(raw_type, raw)
    cut = {k: v[:TEXT_MAX] for k, v in content.items() if k in CUSTOMER_TEXT and v and len(v) > TEXT_MAX}
    return InboundMessage(**base, **{**content, **cut}, truncated=bool(cut))


def _content(raw_type: str, raw: dict) -> dict:
    body = raw.get(raw_type) if isinstance(raw.get(raw_type), dict) else {}
    event = message_events.content(raw_type, raw, body, content_of=_content, text=_str, time=_time)
    if event is not None:
        return event
    if raw_type == "text":
        return {"kind": "text", "text": _str(body.get("body")) or ""}
    if raw_type == "button":
        return {"kind": "template_button", "payload": _str(body.get("payload")), "text": _str(body.get("text"))}
    if raw_type == "interactive":
        sub = _str(body.get("type"))
        reply = body.get(sub) if sub in ("button_reply", "list_reply") and isinstance(body.get(sub), dict) else None
        if reply is None:
            return {"kind": "unknown"}
        return {
            "kind": sub, "payload": _str(reply.get("id")), "text": _str(reply.get("title")),
            "description": _str(reply.get("description")),
        }
    if raw_type in MEDIA_KINDS:
        media = Media(
            kind=raw_type, id=_str(body.get("id")), mime_type=_str(body.get("mime_type")),
            sha256=_str(body.get("sha256")), caption=_str(body.get("caption")),
            filename=_str(body.get("filename")), voice=bool(body.get("voice")),
            animated=bool(body.get("animated")),
        )
        return {"kind": raw_type, "media": media, "text": media.caption}
    if raw_type == "location":
        location = Location(
            latitude=_float(body.get("latitude")), longitude=_float(body.get("longitude")),
            name=_str(body.get("name")), address=_str(body.get("address")), url=_str(body.get("url")),
        )
        return {"kind": "location", "location": location}
    if raw_type == "contacts":
        return {"kind": "contacts", "contacts": tuple(_shared_contact(c) for c in _dicts(raw.get("contacts")))}
    if raw_type == "reaction":
        return {"kind": "reaction", "reaction": Reaction(_str(body.get("message_id")), _str(body.get("emoji")))}
    if raw_type == "order":
        items = tuple(
            OrderItem(_str(i.get("product_retailer_id")), _int(i.get("quantity")),
                      _float(i.get("item_price")), _str(i.get("currency")))
            for i in _dicts(body.get("product_items"))
        )
        return {"kind": "order", "order": Order(_str(body.get("catalog_id")), _str(body.get("text")), items)}
    if raw_type == "system":
        return {
            "kind": "system", "text": _str(body.get("body")), "system_type": _str(body.get("type")),
            "new_wa_id": _str(body.get("wa_id")) or _str(body.get("new_wa_id")),
            "new_user_id": _str(body.get("user_id")),
        }
    if raw_type == "unsupported" or raw.get("errors"):
        return {"kind": "unsupported"}
    return {"kind": "unknown"}


def _status(raw: dict, metadata: dict) -> StatusUpdate | None:
    wamid, status = _str(raw.get("id")), _str(raw.get("status"))
    if not wamid or not status:
        return None
    conversation = raw.get("conversation") if isinstance(raw.get("conversation"), dict) else {}
    origin = conversation.get("origin") if isinstance(conversation.get("origin"), dict) else {}
    pricing = raw.get("pricing") if isinstance(raw.get("pricing"), dict) else {}
    billable = pricing.get("billable")
    return StatusUpdate(
        wamid=wamid, status=status.lower(), timestamp=_time(raw.get("timestamp")),
        recipient_id=_str(raw.get("recipient_id")),
        recipient_user_id=_str(raw.get("recipient_user_id")) or _str(raw.get("user_id")),
        phone_number_id=_str(metadata.get("phone_number_id")),
        errors=tuple(_errors(raw.get("errors"))),
        conversation_id=_str(conversation.get("id")),
        conversation_origin=_str(origin.get("type")),
        conversation_expires_at=_time(conversation.get("expiration_timestamp")),
        pricing_billable=billable if isinstance(billable, bool) else None,
        pricing_category=_str(pricing.get("category")),
        pricing_model=_str(pricing.get("pricing_model")),
        biz_opaque_callback_data=_str(raw.get("biz_opaque_callback_data")),
    )


def _shared_contact(raw: dict) -> SharedContact:
    name = raw.get("name") if isinstance(raw.get("name"), dict) else {}
    phones = list(_dicts(raw.get("phones")))
    return SharedContact(
        formatted_name=_str(name.get("formatted_name")) or _str(name.get("first_name")),
        phones=tuple(p for p in (_str(p.get("phone")) for p in phones) if p),
        wa_ids=tuple(w for w in (_str(p.get("wa_id")) for p in phones) if w),
    )


def _context(raw: Any) -> Context | None:
    if not isinstance(raw, dict):
        return None
    product = raw.get("referred_product") if isinstance(raw.get("referred_product"), dict) else {}
    return Context(
        message_id=_str(raw.get("id")), from_=_str(raw.get("from")),
        product_retailer_id=_str(product.get("product_retailer_id")),
        catalog_id=_str(product.get("catalog_id")),
        forwarded=bool(raw.get("forwarded") or raw.get("frequently_forwarded")),
    )


def _referral(raw: Any) -> Referral | None:
    if not isinstance(raw, dict):
        return None
    return Referral(
        source_type=_str(raw.get("source_type")), source_id=_str(raw.get("source_id")),
        source_url=_str(raw.get("source_url")), headline=_str(raw.get("headline")),
        body=_str(raw.get("body")), ctwa_clid=_str(raw.get("ctwa_clid")),
    )


def _errors(raw: Any) -> list[ErrorInfo]:
    out = []
    for e in _dicts(raw):
        data = e.get("error_data") if isinstance(e.get("error_data"), dict) else {}
        out.append(ErrorInfo(_int(e.get("code")), _str(e.get("title")), _str(e.get("message")),
                             _str(data.get("details"))))
    return out


def _short(value: Any) -> str:
    """A value as text for a log line, cut: a signed body can put megabytes anywhere."""
    text = str(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _dicts(value: Any):
    return (v for v in value if isinstance(v, dict)) if isinstance(value, list) else ()


def _str(value: Any) -> str | None:
    # Ids arrive as strings, but group payloads show numbers; normalise both, drop empties.
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value)
    return text if text != "" else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e400 decodes to infinity
        return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _time(value: Any) -> dt.datetime | None:
    seconds = _int(value)
    if seconds is None or not TIME_RANGE[0] <= seconds < TIME_RANGE[1]:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
