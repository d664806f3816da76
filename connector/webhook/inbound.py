"""Webhook payloads → typed, immutable events. Pure functions: no Redis, no network.

Meta's payload is nested (object → entry[] → changes[] → value → messages[]/statuses[]) and
grows new fields and message types all the time, so parsing is lenient: an unknown message
type becomes kind "unknown", a change for another field is reported as ignored, and only a
payload that is not a WhatsApp webhook at all raises PayloadError.

Group events (`group_lifecycle_update`, `group_participants_update`, `group_settings_update`,
and messages carrying a `group_id`) are acknowledged and ignored with a log line: this bot
answers customers one to one, and a reply in a group would go to every participant.

pywa's update classes were read for the shape of each type but are not used: they need a
WhatsApp client object, parse only the first entry/change/message, and index contacts[0],
which is absent for system messages and must not be assumed for business-scoped users.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

WABA_OBJECT = "whatsapp_business_account"
MESSAGES_FIELD = "messages"

MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")
KINDS = (
    "text", "button_reply", "list_reply", "template_button", *MEDIA_KINDS, "location",
    "contacts", "reaction", "order", "system", "unsupported", "unknown",
)
UNSUPPORTED_CODE = 131051


class PayloadError(ValueError):
    """The body is JSON but not a WhatsApp Business webhook we can read."""


@dataclass(frozen=True)
class Sender:
    """Who wrote. Either id may be missing: business-scoped users (BSUID, "US.…") can hide
    their phone number, and older payloads have no user_id."""

    wa_id: str | None
    user_id: str | None = None
    name: str | None = None

    @property
    def key(self) -> str:
        return self.wa_id or self.user_id or ""


@dataclass(frozen=True)
class ErrorInfo:
    code: int | None
    title: str | None = None
    message: str | None = None
    details: str | None = None


@dataclass(frozen=True)
class Media:
    kind: str
    id: str | None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    animated: bool = False


@dataclass(frozen=True)
class Location:
    latitude: float | None
    longitude: float | None
    name: str | None = None
    address: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SharedContact:
    formatted_name: str | None
    phones: tuple[str, ...] = ()
    wa_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reaction:
    message_id: str | None
    emoji: str | None  # None or "" = the customer removed their reaction

    @property
    def removed(self) -> bool:
        return not self.emoji


@dataclass(frozen=True)
class OrderItem:
    product_retailer_id: str | None
    quantity: int | None
    item_price: float | None
    currency: str | None


@dataclass(frozen=True)
class Order:
    catalog_id: str | None
    text: str | None
    items: tuple[OrderItem, ...] = ()


@dataclass(frozen=True)
class Context:
    """What the message replies to (a bot message, a product, a forwarded message)."""

    message_id: str | None
    from_: str | None = None
    product_retailer_id: str | None = None
    catalog_id: str | None = None
    forwarded: bool = False


@dataclass(frozen=True)
class Referral:
    """Set when the chat started from a click-to-WhatsApp ad or post."""

    source_type: str | None
    source_id: str | None = None
    source_url: str | None = None
    headline: str | None = None
    body: str | None = None
    ctwa_clid: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    wamid: str
    kind: str
    raw_type: str
    sender: Sender
    timestamp: dt.datetime | None
    phone_number_id: str | None = None
    text: str | None = None          # text body, button/row title, media caption
    payload: str | None = None       # reply button / list row id, template button payload
    description: str | None = None   # list row description
    media: Media | None = None
    location: Location | None = None
    contacts: tuple[SharedContact, ...] = ()
    reaction: Reaction | None = None
    order: Order | None = None
    system_type: str | None = None
    new_wa_id: str | None = None
    new_user_id: str | None = None
    errors: tuple[ErrorInfo, ...] = ()
    context: Context | None = None
    referral: Referral | None = None
    # The original message, matched contact and value metadata: this is what the durable
    # queue stores, so a restart re-parses exactly what Meta sent (see parse_envelope).
    envelope: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class StatusUpdate:
    wamid: str
    status: str  # sent | delivered | read | failed (| played, or whatever Meta adds)
    timestamp: dt.datetime | None
    recipient_id: str | None
    recipient_user_id: str | None = None
    phone_number_id: str | None = None
    errors: tuple[ErrorInfo, ...] = ()
    conversation_id: str | None = None
    conversation_origin: str | None = None
    conversation_expires_at: dt.datetime | None = None
    pricing_billable: bool | None = None
    pricing_category: str | None = None
    pricing_model: str | None = None
    biz_opaque_callback_data: str | None = None

    @property
    def error_codes(self) -> tuple[int, ...]:
        return tuple(e.code for e in self.errors if e.code is not None)

    @property
    def recipient_key(self) -> str:
        return self.recipient_id or self.recipient_user_id or ""


@dataclass(frozen=True)
class Ignored:
    """Something acknowledged but not acted on, with the reason for the log."""

    field: str
    reason: str


@dataclass(frozen=True)
class WebhookBatch:
    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    errors: tuple[ErrorInfo, ...] = ()  # value-level errors Meta reports about the webhook


def parse_webhook(payload: Any) -> WebhookBatch:
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    obj = payload.get("object")
    if obj != WABA_OBJECT:
        return WebhookBatch(ignored=(Ignored("object", f"object {obj!r} is not {WABA_OBJECT}"),))
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("'entry' must be a list")
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    ignored: list[Ignored] = []
    errors: list[ErrorInfo] = []
    for entry in entries:
        for change in _dicts(entry.get("changes") if isinstance(entry, dict) else None):
            name = str(change.get("field"))
            value = change.get("value")
            if name != MESSAGES_FIELD:
                ignored.append(Ignored(name, f"field {name!r} is not handled by the FAQ bot"))
                continue
            if not isinstance(value, dict):
                ignored.append(Ignored(name, "change without a value object"))
                continue
            _parse_value(value, messages, statuses, ignored)
            errors.extend(_errors(value.get("errors")))
    return WebhookBatch(tuple(messages), tuple(statuses), tuple(ignored), tuple(errors))


def _parse_value(value: dict, messages: list, statuses: list, ignored: list) -> None:
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    contacts = list(_dicts(value.get("contacts")))
    for raw in _dicts(value.get("messages")):
        if raw.get("group_id"):
            ignored.append(Ignored(MESSAGES_FIELD, "group message (the bot only answers 1:1 chats)"))
            continue
        envelope = {"message": raw, "contact": _contact_for(raw, contacts), "metadata": metadata}
        try:
            messages.append(parse_envelope(envelope))
        except PayloadError as exc:
            ignored.append(Ignored(MESSAGES_FIELD, str(exc)))
    for raw in _dicts(value.get("statuses")):
        if raw.get("recipient_type") == "group" or raw.get("group_id"):
            ignored.append(Ignored(MESSAGES_FIELD, "status of a group message"))
            continue
        status = _status(raw, metadata)
        if status is None:
            ignored.append(Ignored(MESSAGES_FIELD, "status without id or status"))
        else:
            statuses.append(status)


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
        raise PayloadError(f"message {wamid} has no sender id")
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
    return InboundMessage(**base, **_content(raw_type, raw))


def _content(raw_type: str, raw: dict) -> dict:
    body = raw.get(raw_type) if isinstance(raw.get(raw_type), dict) else {}
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


def _dicts(value: Any):
    return (v for v in value if isinstance(v, dict)) if isinstance(value, list) else ()


def _str(value: Any) -> str | None:
    # Ids arrive as strings, but group payloads show numbers; normalise both, drop empties.
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value)
    return text if text != "" else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> dt.datetime | None:
    seconds = _int(value)
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc) if seconds is not None else None
