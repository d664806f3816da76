"""The typed, immutable events a webhook is parsed into (connector/webhook/inbound.py parses).

One frozen dataclass per update kind and per part of one, as pywa's types are laid out: an
InboundMessage (its `kind` says which of KINDS it is, and the matching part is set), a
StatusUpdate for an outbound message, a PreferenceUpdate from the customer's WhatsApp settings, and the Ignored/Rejected notes a batch is logged with.

EVENT_KINDS are messages that are not the customer saying something: an edit or deletion of an
earlier message, a reply to a call-permission request, the chat opened for the first time. They
arrive in `messages` with their own id, so they share the durable queue (dedupe, and order
with the message they change) but never become a bot turn of their own (connector/channel/turns.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # defined beside their parsing, which imports this module
    from connector.webhook.account import AccountUpdate, QualityUpdate

MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")
KINDS = (
    "text", "button_reply", "list_reply", "template_button", *MEDIA_KINDS, "location",
    "contacts", "reaction", "order", "system", "unsupported", "unknown",
    "edit", "revoke", "call_permission_reply", "request_welcome",
)
# Recorded for the agent (bot/customer_events.py), never answered; request_welcome is not among
# them: Meta sends it so the business can greet, and the bot does.
EVENT_KINDS = ("edit", "revoke", "call_permission_reply")


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
class Edit:
    """The customer edited an earlier message (text, or a media caption): Meta's `edit`."""

    original_message_id: str
    text: str | None          # the new text or caption
    kind: str | None = None   # the edited message's type, as Meta names it


@dataclass(frozen=True)
class Revoke:
    """The customer deleted an earlier message for everyone: Meta's `revoke`."""

    original_message_id: str


@dataclass(frozen=True)
class CallPermissionReply:
    """The customer's answer to a call-permission request (interactive `call_permission_reply`)."""

    accepted: bool
    permanent: bool = False
    expires_at: dt.datetime | None = None
    source: str | None = None  # "user_action" | "automatic"


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
    edit: Edit | None = None
    revoke: Revoke | None = None
    call_permission: CallPermissionReply | None = None
    system_type: str | None = None
    new_wa_id: str | None = None
    new_user_id: str | None = None
    errors: tuple[ErrorInfo, ...] = ()
    context: Context | None = None
    referral: Referral | None = None
    # True when text/payload/description were cut to WhatsApp's text limit before NLU.
    truncated: bool = False
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
class PreferenceUpdate:
    """A customer stopped or resumed a kind of message in WhatsApp's own settings ("Offers and
    announcements"): Meta's `user_preferences` webhook, one per entry of its list."""

    wa_id: str
    category: str            # "marketing_messages" (the only one Meta sends today)
    value: str               # "stop" | "resume"
    timestamp: dt.datetime | None
    detail: str | None = None
    phone_number_id: str | None = None


@dataclass(frozen=True)
class TemplateStatusUpdate:
    """Meta reviewed, paused, disabled or reinstated a template: `message_template_status_update`."""

    template_id: str | None
    name: str
    language: str
    event: str               # Meta's word: APPROVED, REJECTED, PAUSED, DISABLED, REINSTATED, FLAGGED…
    timestamp: dt.datetime | None   # the entry's `time`
    reason: str | None = None       # REJECTED's reason ("NONE" dropped)
    category: str | None = None
    detail: str | None = None       # other_info: why a template was paused or disabled

    @property
    def ref(self) -> str:
        """The same for Meta's redelivery of this webhook, different for any other."""
        return _template_ref("status", self, self.event)


@dataclass(frozen=True)
class TemplateQualityUpdate:
    """A template's quality rating changed: `message_template_quality_update`."""

    template_id: str | None
    name: str
    language: str
    previous: str | None     # GREEN | YELLOW | RED | UNKNOWN, as Meta writes them
    quality: str
    timestamp: dt.datetime | None

    @property
    def ref(self) -> str:
        return _template_ref("quality", self, self.quality)


def _template_ref(kind: str, update: "TemplateStatusUpdate | TemplateQualityUpdate", what: str) -> str:
    at = int(update.timestamp.timestamp()) if update.timestamp else ""
    return f"{kind}:{update.template_id or update.name + ':' + update.language}:{what}:{at}"


@dataclass(frozen=True)
class Ignored:
    """Something acknowledged but not acted on, with the reason for the log."""

    field: str
    reason: str


@dataclass(frozen=True)
class Rejected:
    """A message or status that is malformed: dropped (logged), while the rest of its batch
    is accepted, since Meta would only redeliver the same bytes."""

    wamid: str | None
    reason: str


@dataclass(frozen=True)
class WebhookBatch:
    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    preferences: tuple[PreferenceUpdate, ...] = ()
    account: tuple[QualityUpdate | AccountUpdate, ...] = ()  # connector/webhook/account.py
    ignored: tuple[Ignored, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    errors: tuple[ErrorInfo, ...] = ()  # value-level errors Meta reports about the webhook
    template_statuses: tuple[TemplateStatusUpdate, ...] = ()
    template_qualities: tuple[TemplateQualityUpdate, ...] = ()
