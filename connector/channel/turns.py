"""One queued WhatsApp message → one Rasa turn (or a message for the agent who has the chat).

The inbox's worker pool (connector/inbox/pool.py) calls a TurnHandler with the head of a
conversation it holds; everything WhatsApp- and Rasa-specific about that message happens here.

The Redis client is synchronous (shared with the window and handoff modules), so its calls run
in a thread to keep Sanic's event loop free for webhooks.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
from dataclasses import asdict
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage

from bot import consent as consent_words
from bot import csat
from bot import orders
from bot.customer_events import CustomerEvents
from bot.handoff import Handoff
from connector.channel import recorded
from connector.channel.output import TurnOutput, WhatsAppOutput
from connector.channel.tracker import RasaTrackers
from connector.cloudapi import reply_ids
from connector.inbox.pool import TRANSIENT  # the pool retries exactly these
from connector.inbox.queue import QueuedItem
from connector.policy.consent import MARKETING, OPTED_IN, OPTED_OUT, ConsentRegister
from connector.policy.window import ServiceWindow
from connector.webhook.inbound import PayloadError, parse_envelope
from connector.webhook.types import MEDIA_KINDS, InboundMessage
from core.channels import CUSTOMER_MESSAGES

logger = logging.getLogger(__name__)

CHANNEL_NAME = "whatsapp"
# What a waiting customer types or taps to stop waiting and talk to the bot again.
BACK_TO_BOT_PAYLOAD = "/back_to_bot"
BACK_TO_BOT_WORDS = {"menu", "menú", "bot", "volver", "volver al menu", "volver al menú", "back", "back to bot"}

# Kinds that never become a bot turn: a reaction is not a question, a number change is
# bookkeeping (applied to connector/identity.py when the webhook arrived), and the rest are
# events about the chat (connector/channel/recorded.py), recorded for the agent.
SILENT_KINDS = ("reaction", *recorded.SILENT)
# Meta's "the customer opened the chat": it expects a welcome, and the greeting is ours.
WELCOME_PAYLOAD = "/greet"

# Where a consent command can come from, and the register's name for it: typed text, and a
# template's quick reply (a marketing template's "Stop promotions" button).
COMMAND_SOURCES = {"text": "message", "template_button": "template_button"}


def consent_command(message: InboundMessage) -> consent_words.Command | None:
    """The opt-out / opt-in command this message is (the whole of it), or None."""
    if message.kind not in COMMAND_SOURCES:
        return None
    found = consent_words.command(message.text)
    if found is None and message.kind == "template_button":
        found = consent_words.command(message.payload)
    return found


def rasa_text(message: InboundMessage, id_key: bytes | None = None) -> str | None:
    """What Rasa sees for this message; None = no bot turn. The intents named here must be
    in the domain: media_received (entity media_kind), shared_location, shared_contacts,
    order_received, unsupported_message."""
    kind = message.kind
    if kind == "text":
        return _typed(message.text) or None
    if kind in ("button_reply", "list_reply", "template_button"):
        return _reply_payload(message, id_key) or _typed(message.text or message.payload) or None
    if kind in MEDIA_KINDS:
        return "/media_received" + json.dumps({"media_kind": kind}, separators=(",", ":"))
    if kind == "location":
        return "/shared_location"
    if kind == "contacts":
        return "/shared_contacts"
    if kind == "order":
        return "/order_received"
    if kind == "request_welcome":
        return WELCOME_PAYLOAD
    if kind in SILENT_KINDS:
        return None
    return "/unsupported_message"  # "unsupported" (131051): Meta could not pass the message on


def _reply_payload(message: InboundMessage, id_key: bytes | None) -> str | None:
    """The Rasa payload of a reply to one of our own buttons. Any other id (a template's quick
    reply, one a modified client made up) is not trusted: the caller reads the customer-visible
    title as typed text instead."""
    if not message.payload:
        return None
    return reply_ids.untag(message.payload, id_key or reply_ids.key())


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
        "truncated": message.truncated,  # cut to WhatsApp's 4096 characters before NLU
    }
    for name in ("media", "location", "reaction", "order", "edit", "revoke", "call_permission",
                 "context", "referral"):
        value = getattr(message, name)
        if value is not None:
            data[name] = asdict(value, dict_factory=_plain)
    if message.contacts:
        data["contacts"] = [asdict(c) for c in message.contacts]
    if message.errors:
        data["errors"] = [asdict(e) for e in message.errors]
    return data


def _plain(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A dataclass as JSON-able facts: times as ISO text (a call permission's expiry)."""
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in pairs}


def _typed(text: str | None) -> str | None:
    """Rasa reads any text starting with "/" as an intent with entities, so a customer typing
    "/restart" would un-pause a chat an agent holds and "/x{...}" would set slots. Typed text
    always goes through NLU: leading slashes are dropped (a text of only slashes cannot name
    an intent and stays as it is)."""
    if not text or not text.lstrip().startswith("/"):
        return text
    return _LEADING_SLASHES.sub("", text) or text


_LEADING_SLASHES = re.compile(r"^[\s/]+")

# Offered when the bot's turn failed: the customer is not left without an answer, and the
# payload is the domain's own way of asking for a person (domain.yml, intent human_handoff).
HUMAN_HANDOFF_PAYLOAD = "/human_handoff"
MAIN_MENU_PAYLOAD = "/main_menu"
TURN_FAILED_REPLY = {
    "es": ("Perdón, tuve un problema al procesar tu mensaje 😓. ¿Quieres que te atienda una persona?",
           [("Hablar con persona", HUMAN_HANDOFF_PAYLOAD), ("Ver menú", MAIN_MENU_PAYLOAD)]),
    "en": ("Sorry, something went wrong with your message 😓. Would you like a person to help you?",
           [("Talk to a person", HUMAN_HANDOFF_PAYLOAD), ("See the menu", MAIN_MENU_PAYLOAD)]),
}


class TurnHandler:
    """Everything that happens to one message once a worker holds its conversation."""

    def __init__(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        trackers: RasaTrackers,
        output: WhatsAppOutput,
        handoff: Handoff,
        window: ServiceWindow,
        redis_client: Any,
        consent: ConsentRegister,
    ) -> None:
        """`on_new_message` is Rasa's (the channel's blueprint argument); `redis_client` carries
        a handed-off chat's messages to the console (pub/sub)."""
        self.on_new_message = on_new_message
        self.trackers = trackers
        self.output = output
        self.handoff = handoff
        self.window = window
        self.redis = redis_client
        self.consent = consent
        self.csat = csat.Csat(redis_client, window.clock)
        self.events = CustomerEvents(redis_client)

    async def __call__(self, item: QueuedItem) -> None:
        try:
            message = parse_envelope(item.envelope)
        except PayloadError as exc:  # stored by an older version, or damaged: skip, keep the queue moving
            logger.error("conversation %s: unreadable queued item %s: %s", item.conv, item.wamid, exc)
            return
        conv = item.conv
        event = recorded.customer_event(message)
        if event is not None:
            await asyncio.to_thread(self.events.record, conv, event)
        if message.kind in recorded.SILENT:
            logger.info("conversation %s: %s %s recorded, not answered", conv, message.kind, message.wamid)
            if (await asyncio.to_thread(self.handoff.state, conv)).with_person:
                await self._to_person(conv, describe(message, conv), None)
            return
        facts = describe(message, conv)
        metadata = {"whatsapp": facts}
        command = consent_command(message)
        if command is not None:
            await self._consent(message, conv, command, facts, metadata)
            return
        text = rasa_text(message, self.output.id_key)
        score = csat.score_of(text) if message.kind == "button_reply" else None
        if score is not None:
            await self._csat(message, conv, score, facts, metadata)
            return
        handed_off = (await asyncio.to_thread(self.handoff.state, conv)).with_person
        if handed_off and text is not None and await self._back_to_bot(conv, text):
            handed_off = False
        output = self.output.for_turn(message.wamid, name=message.sender.name or "",
                                      last_message=message.text or "")
        if text is not None:
            # The handoff state as it is under Rasa's lock (an agent may have resolved since
            # the read above); the tracker is paused or resumed to match it.
            handed_off = await self.trackers.follow_handoff(conv, output, metadata)
        async with self._acknowledging(message, output, typing=text is not None and not handed_off):
            if message.kind != "reaction":
                # Reactions are not counted as opening the 24 h window: if Meta disagrees we only
                # lose window time, whereas the opposite error costs a refused send (131047).
                await asyncio.to_thread(self.window.record_inbound, conv, message.timestamp)
            if handed_off:
                await self._to_person(conv, facts, orders.preview(facts.get("order")) or text)
            if text is None:
                return
            # While handed off the tracker is paused: Rasa logs the message and the bot stays quiet.
            try:
                await self.on_new_message(UserMessage(
                    text=text,
                    output_channel=output,
                    sender_id=conv,
                    input_channel=CHANNEL_NAME,
                    message_id=message.wamid,
                    metadata=metadata,
                ))
            except TRANSIENT:
                raise  # says nothing about the message: the pool runs the turn again
            except Exception as exc:
                await self._turn_failed(conv, facts, output, exc, apologise=not handed_off)

    async def _consent(self, message: InboundMessage, conv: str, command: consent_words.Command,
                       facts: dict[str, Any], metadata: dict[str, Any]) -> None:
        """An opt-out or opt-in, recorded at once and confirmed in the customer's language."""
        async def record(conversation_language: str | None) -> tuple[str, str | None]:
            state = OPTED_OUT if command.action == consent_words.OPT_OUT else OPTED_IN
            await asyncio.to_thread(
                self.consent.record, conv, MARKETING, state, COMMAND_SOURCES[message.kind],
                at=message.timestamp, by="customer", ref=message.wamid)
            language = command.language or conversation_language
            return consent_words.confirmation(command.action, language), language

        await self._answer_here(message, conv, facts, metadata, command.intent, record)

    async def _csat(self, message: InboundMessage, conv: str, score: str,
                    facts: dict[str, Any], metadata: dict[str, Any]) -> None:
        """A tap on the satisfaction question (bot/csat.py): recorded once, and thanked."""
        async def record(language: str | None) -> tuple[str, str | None]:
            recorded = await asyncio.to_thread(self.csat.answer, conv, score)
            return csat.reply(recorded, language, self.trackers.responses()), language

        await self._answer_here(message, conv, facts, metadata, csat.ANSWER_INTENT, record)

    async def _answer_here(self, message: InboundMessage, conv: str, facts: dict[str, Any],
                           metadata: dict[str, Any], intent: str,
                           record: Callable[[str | None], Awaitable[tuple[str, str | None]]]) -> None:
        """A message the connector answers itself, whoever has the chat: `record(the
        conversation's language)` acts on it and gives the reply and its language; the reply goes
        to the customer, the message to the person who has the chat (as any message), and both
        into the tracker without a bot turn (the bot would not understand it)."""
        typed = message.text or message.payload or ""
        output = self.output.for_turn(message.wamid, name=message.sender.name or "", last_message=typed)
        handed_off = await self.trackers.follow_handoff(conv, output, metadata)  # keeps the pause right
        async with self._acknowledging(message, output, typing=True):
            await asyncio.to_thread(self.window.record_inbound, conv, message.timestamp)
            reply, language = await record(await self.trackers.language(conv))
            if handed_off:
                await self._to_person(conv, facts, typed)
            # Sent before it is logged: a turn re-run after a crash in between skips the logged
            # message (pool's already_handled), and the turn's numbering skips a reply sent.
            await output.send_text_message(conv, reply, language=language)
            await self.trackers.log_answered(conv, output, metadata, text=typed, wamid=message.wamid,
                                             intent=intent, reply=reply)

    async def _to_person(self, conv: str, facts: dict[str, Any], text: str | None) -> None:
        """The message reaches whoever has the chat: the console's live view and its queue."""
        await asyncio.to_thread(self.redis.publish, CUSTOMER_MESSAGES, json.dumps(facts, ensure_ascii=False))
        # Every message counts for the agent's unread badge; only typed text becomes the preview.
        preview = text if text is not None and not text.startswith("/") else None
        await asyncio.to_thread(self.handoff.update_last_message, conv, preview)

    async def _turn_failed(self, conv: str, facts: dict[str, Any], output: WhatsAppOutput,
                           exc: Exception, apologise: bool) -> None:
        """The turn raised (a bug, a broken component): on the failure stream for people, and
        the customer is told and offered a person rather than left unanswered."""
        logger.exception("conversation %s: the bot's turn for %s failed", conv, facts["wamid"])
        await asyncio.to_thread(
            self.output.sender.delivery.record_failure, conv, facts, type(exc).__name__,
            "the bot's turn failed; the customer was offered a person", str(exc), kind="turn_failed")
        if not apologise:
            return
        try:
            language = await self.trackers.language(conv)
        except Exception as lookup:  # the tracker may be what broke; the apology still goes out
            logger.warning("conversation %s: language unknown (%s)", conv, lookup)
            language = None
        text, buttons = TURN_FAILED_REPLY.get(language or "es", TURN_FAILED_REPLY["es"])
        await output.send_text_with_buttons(
            conv, text, [{"title": title, "payload": payload} for title, payload in buttons],
            language=language)

    async def _back_to_bot(self, conv: str, text: str) -> bool:
        """A customer still in the queue may go back to the bot; once an agent has them, not.
        The tracker is resumed by RasaTrackers.follow_handoff, which sees the state "bot"."""
        if text.strip() != BACK_TO_BOT_PAYLOAD and text.strip().lower() not in BACK_TO_BOT_WORDS:
            return False
        try:
            cancelled = await asyncio.to_thread(self.handoff.cancel, conv)
        except Exception as exc:  # an agent already holds the chat: the message goes to them
            logger.info("conversation %s: stays with the agent (%s)", conv, exc)
            return False
        return bool(cancelled)

    @contextlib.asynccontextmanager
    async def _acknowledging(self, message: InboundMessage, output: TurnOutput, typing: bool):
        """The read receipt goes out while the turn runs (a Graph call costs a few hundred ms,
        about as much as the turn's own work) and the turn's first send waits for it, so blue
        ticks and "typing…" still reach the customer before the answer. The turn ends with it."""
        receipt = asyncio.create_task(self._acknowledge(message, typing))
        output.first_send_after(receipt)
        try:
            yield
        except BaseException:
            receipt.cancel()  # the turn failed or stopped: it runs again, with its receipt
            raise
        finally:
            await asyncio.gather(receipt, return_exceptions=True)

    async def _acknowledge(self, message: InboundMessage, typing: bool) -> None:
        try:
            await self.output.mark_read(message.wamid, typing)
        except Exception as exc:  # blue ticks are a courtesy; never lose the answer over them
            logger.warning("read receipt for %s failed: %s", message.wamid, exc)
