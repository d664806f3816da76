"""One queued WhatsApp message → one Rasa turn (or a message for the agent who has the chat).

The inbox's worker pool (connector/inbox/pool.py) calls a TurnHandler with the head of a
conversation it holds; everything WhatsApp- and Rasa-specific about that message happens here.

The Redis client is synchronous (shared with the window and handoff modules), so its calls run
in a thread to keep Sanic's event loop free for webhooks.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import asdict
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage

from connector.webhook.inbound import PayloadError, parse_envelope
from connector.webhook.types import MEDIA_KINDS, InboundMessage
from connector.inbox.queue import QueuedItem
from core.channels import CUSTOMER_MESSAGES

logger = logging.getLogger(__name__)

CHANNEL_NAME = "whatsapp"
HANDOFF_CHANNEL = CUSTOMER_MESSAGES
HANDED_OFF = ("queued", "assigned")
# What a waiting customer types or taps to stop waiting and talk to the bot again.
BACK_TO_BOT_PAYLOAD = "/back_to_bot"
BACK_TO_BOT_WORDS = {"menu", "menú", "bot", "volver", "volver al menu", "volver al menú", "back", "back to bot"}

# Kinds that never become a bot turn: a reaction is not a question, and a number change is
# bookkeeping (applied to connector/identity.py when the webhook arrived).
SILENT_KINDS = ("reaction", "system")


def rasa_text(message: InboundMessage) -> str | None:
    """What Rasa sees for this message; None = no bot turn. The intents named here must be
    in the domain: media_received (entity media_kind), shared_location, shared_contacts,
    order_received, unsupported_message."""
    kind = message.kind
    if kind == "text":
        return _typed(message.text) or None
    if kind in ("button_reply", "list_reply", "template_button"):
        # Our own buttons carry Rasa payloads ("/faq_pick{...}") as their ids. Anything else
        # (a template's quick reply, an id someone else chose) means nothing to Rasa as an id,
        # so the customer-visible title goes through NLU instead.
        if message.payload and message.payload.startswith("/"):
            return message.payload
        return message.text or message.payload
    if kind in MEDIA_KINDS:
        return "/media_received" + json.dumps({"media_kind": kind}, separators=(",", ":"))
    if kind == "location":
        return "/shared_location"
    if kind == "contacts":
        return "/shared_contacts"
    if kind == "order":
        return "/order_received"
    if kind in SILENT_KINDS:
        return None
    return "/unsupported_message"  # "unsupported" (131051) and types we do not know yet


def describe(message: InboundMessage, conv: str) -> dict[str, Any]:
    """JSON-able facts about the message: Rasa metadata, and what the agent console receives."""
    data: dict[str, Any] = {
        "conversation_id": conv,
        "wamid": message.wamid,
        "kind": message.kind,
        "type": message.raw_type,
        "wa_id": message.sender.wa_id,
        "user_id": message.sender.user_id,
        "name": message.sender.name,
        "timestamp": message.timestamp.isoformat() if message.timestamp else None,
        "text": message.text,
        "payload": message.payload,
    }
    for name in ("media", "location", "reaction", "order", "context", "referral"):
        value = getattr(message, name)
        if value is not None:
            data[name] = asdict(value)
    if message.contacts:
        data["contacts"] = [asdict(c) for c in message.contacts]
    if message.errors:
        data["errors"] = [asdict(e) for e in message.errors]
    return data


def _typed(text: str | None) -> str | None:
    """Rasa reads any text starting with "/" as an intent with entities, so a customer typing
    "/restart" would un-pause a chat an agent holds and "/x{...}" would set slots. Typed text
    always goes through NLU: leading slashes are dropped (a text of only slashes cannot name
    an intent and stays as it is)."""
    if not text or not text.lstrip().startswith("/"):
        return text
    return _LEADING_SLASHES.sub("", text) or text


_LEADING_SLASHES = re.compile(r"^[\s/]+")

MarkRead = Callable[[str, bool], Awaitable[Any]]           # (wamid, show_typing)


class TurnHandler:
    """Everything that happens to one message once a worker holds its conversation."""

    def __init__(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        output_channel: Callable[[], OutputChannel],
        redis_client: Any,
        window: Any = None,
        handoff: Any = None,
        mark_read: Optional[MarkRead] = None,
        resume_bot: Optional[Callable[[str], Awaitable[None]]] = None,
        keep_paused: Optional[Callable[[str, OutputChannel, dict], Awaitable[None]]] = None,
    ) -> None:
        self.on_new_message = on_new_message
        self.resume_bot = resume_bot
        self.keep_paused = keep_paused
        self.output_channel = output_channel
        self.redis = redis_client
        self.window = window
        self.handoff = handoff
        self.mark_read = mark_read

    async def __call__(self, item: QueuedItem) -> None:
        try:
            message = parse_envelope(item.envelope)
        except PayloadError as exc:  # stored by an older version, or damaged: skip, keep the queue moving
            logger.error("conversation %s: unreadable queued item %s: %s", item.conv, item.wamid, exc)
            return
        conv = item.conv
        if message.kind == "system":
            logger.info("conversation %s: system message %s (%s)", conv, message.system_type, message.text)
            return
        text = rasa_text(message)
        handed_off = await self._handed_off(conv)
        if handed_off and text is not None and await self._back_to_bot(conv, text):
            handed_off = False
        await self._acknowledge(message, typing=text is not None and not handed_off)
        if self.window is not None and message.kind != "reaction":
            # Reactions are not counted as opening the 24 h window: if Meta disagrees we only
            # lose window time, whereas the opposite error costs a refused send (131047).
            await asyncio.to_thread(self.window.record_inbound, conv, message.timestamp)
        facts = describe(message, conv)
        if handed_off:
            await asyncio.to_thread(self.redis.publish, HANDOFF_CHANNEL, json.dumps(facts, ensure_ascii=False))
            if text is not None and not text.startswith("/"):
                await asyncio.to_thread(self.handoff.update_last_message, conv, text)
        if text is None:
            return
        output = self.output_channel()
        metadata = {"whatsapp": facts}
        if handed_off and self.keep_paused is not None:
            # A customer who waits more than Rasa's session expiry starts a new session, and
            # SessionStarted un-pauses the tracker: the bot would answer over the agent.
            await self.keep_paused(conv, output, metadata)
        # While handed off the tracker is paused: Rasa logs the message and the bot stays quiet.
        await self.on_new_message(UserMessage(
            text=text,
            output_channel=output,
            sender_id=conv,
            input_channel=CHANNEL_NAME,
            message_id=message.wamid,
            metadata=metadata,
        ))

    async def _handed_off(self, conv: str) -> bool:
        if self.handoff is None:
            return False
        state = await asyncio.to_thread(self.handoff.state, conv)
        return getattr(state, "state", None) in HANDED_OFF

    async def _back_to_bot(self, conv: str, text: str) -> bool:
        """A customer still in the queue may go back to the bot; once an agent has them, not."""
        if text.strip() != BACK_TO_BOT_PAYLOAD and text.strip().lower() not in BACK_TO_BOT_WORDS:
            return False
        try:
            cancelled = await asyncio.to_thread(self.handoff.cancel, conv)
        except Exception as exc:  # an agent already holds the chat: the message goes to them
            logger.info("conversation %s: stays with the agent (%s)", conv, exc)
            return False
        if cancelled and self.resume_bot is not None:
            await self.resume_bot(conv)
        return bool(cancelled)

    async def _acknowledge(self, message: InboundMessage, typing: bool) -> None:
        if self.mark_read is None:
            return
        try:
            await self.mark_read(message.wamid, typing)
        except Exception as exc:  # blue ticks are a courtesy; never lose the answer over them
            logger.warning("read receipt for %s failed: %s", message.wamid, exc)


