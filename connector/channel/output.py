"""Rasa's OutputChannel for WhatsApp: bot responses and agent replies → Cloud API sends.

One instance serves the whole process (the input channel's get_output_channel and Rasa's
`tracker/events?output_channel=whatsapp` for agent replies), so nothing on it is per-conversation
state. The bot's turn for one inbound message goes through `for_turn(wamid)` instead, a view that
numbers the turn's sends, so a turn run again (cut short by a Redis outage before Rasa saved the
tracker) skips what already went out, and that holds the rest of the turn after an unknown
outcome so the customer never sees a later reply before an earlier one.

Send failures never propagate into Rasa: an exception from an output channel aborts the turn
before the tracker is saved, which loses the customer's message and, if the turn is replayed,
re-sends the replies that did go out. Every failure is already in DeliveryLog (`wa:failures`)
for agents and operators; `raise_errors=True` is for tests and callers that want them.
"""
from __future__ import annotations

import inspect
import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text

import redis
from rasa.core.channels.channel import OutputChannel

from bot.handoff import Handoff
from core.clock import SYSTEM_CLOCK, Clock
from connector.cloudapi import messages
from connector.cloudapi.delivery import event_key
from connector.cloudapi.errors import DeferredError, SendError, UnknownOutcomeError
from connector.cloudapi.limits import LimitError
from connector.cloudapi.sender import CloudSender

logger = logging.getLogger(__name__)

# conversation id → wa_id, addressing fields ({"to": …} / {"recipient": …}) or an object with
# .fields() (connector.webhook.identity.Recipient); sync or async.
RecipientLookup = Callable[[str], Any]
LanguageLookup = Callable[[str], Optional[str]]

TURN_TTL_SECONDS = 3 * 24 * 3600  # a turn is re-run within minutes; days cover a long outage
UNKNOWN = "?"  # in a turn record: this send may or may not have reached the customer
HELD = "held after an unknown outcome"
UNKNOWN_OUTCOME_REASON = "delivery_unknown"


def turn_key(turn_id: str) -> str:
    return f"wa:turn:{turn_id}"


class TurnLog:
    """Which numbered sends of a bot turn went out: `wa:turn:{inbound wamid}`, a hash of
    send number → outbound wamid (or UNKNOWN), TTL TURN_TTL_SECONDS.

    A record Redis cannot take right now (the outage that will make the turn run again) is
    kept in this process, whose worker is the one that re-runs the turn, until a later
    record of the same turn reaches Redis.
    """

    def __init__(self, redis_client: Any, keep: int = 10_000) -> None:
        self.redis = redis_client
        self.keep = keep
        self._unsaved: "OrderedDict[str, dict[str, str]]" = OrderedDict()

    def sent(self, turn_id: str) -> dict[str, str]:
        try:
            stored = self.redis.hgetall(turn_key(turn_id))
        except redis.RedisError as exc:
            logger.warning("turn %s: record not readable (%s); using this process's", turn_id, exc)
            stored = {}
        return {**stored, **self._unsaved.get(turn_id, {})}

    def record(self, turn_id: str, number: int, wamid: str) -> None:
        entry = {**self._unsaved.pop(turn_id, {}), str(number): wamid}
        try:
            pipe = self.redis.pipeline()
            pipe.hset(turn_key(turn_id), mapping=entry)
            pipe.expire(turn_key(turn_id), TURN_TTL_SECONDS)
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("turn %s: send %d not recorded in Redis (%s); kept in this process",
                           turn_id, number, exc)
            self._unsaved[turn_id] = entry
            while len(self._unsaved) > self.keep:
                self._unsaved.popitem(last=False)


class WhatsAppOutput(OutputChannel):
    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    def __init__(
        self,
        sender: CloudSender,
        recipient_for: RecipientLookup | None = None,
        *,
        language_for: LanguageLookup | None = None,
        raise_errors: bool = False,
        handoff: Handoff | None = None,
        turn_log: TurnLog | None = None,
        id_key: bytes | None = None,
    ) -> None:
        """`handoff` is needed by `for_turn` views (an unknown outcome queues the chat); `id_key`
        tags reply ids (connector/cloudapi/reply_ids.py), None = from the environment."""
        self.sender = sender
        self.recipient_for = recipient_for
        self.language_for = language_for
        self.raise_errors = raise_errors
        self.handoff = handoff
        self.id_key = id_key
        self.turn_log = turn_log or TurnLog(sender.delivery.redis)

    @classmethod
    def from_config(cls, config: Any, redis, clock: Clock = SYSTEM_CLOCK, *, http=None,
                    recipient_for: RecipientLookup | None = None, **options: Any) -> "WhatsAppOutput":
        """Build sender and channel from a GraphTarget (the WhatsAppConfig is one) and a Redis client."""
        sender_options = {k: options.pop(k) for k in list(options)
                          if k in ("retry", "pacing", "timeout", "sleep", "rng", "window")}
        return cls(CloudSender(config, redis, clock, http, **sender_options), recipient_for, **options)

    def for_turn(self, turn_id: str, *, name: str = "", last_message: str = "") -> "TurnOutput":
        """The output channel for the bot's turn answering inbound message `turn_id` (its
        wamid); `name` and `last_message` describe the customer for the queue, should an
        unknown outcome hand the chat to a person."""
        if self.handoff is None:
            raise ValueError("for_turn needs the handoff: build WhatsAppOutput with handoff=")
        return TurnOutput(self, turn_id, self.handoff, name=name, last_message=last_message)

    async def mark_read(self, wamid: str, typing: bool) -> None:
        """Blue ticks, plus "typing…" when the bot is about to answer (no window check or
        pacing; failures only logged)."""
        await self.sender.mark_read(wamid, typing=typing)

    # --- Rasa's entry point ------------------------------------------------------------

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Like OutputChannel.send_response, but one interactive message for text + buttons and
        the response's metadata (agent, language) carried to every part."""
        message = dict(message)
        # event_key: the sends are linked to this bot event, whose state the console shows.
        context = {"agent": _meta(message, "agent"), "language": _language(message),
                   "event_key": event_key(message.get("timestamp"))}
        buttons = message.get("buttons") or message.get("quick_replies")
        text = message.get("text")
        if buttons:
            await self.send_text_with_buttons(recipient_id, text or "", buttons,
                                              header=message.get("header"), footer=message.get("footer"),
                                              **context)
        elif text:
            await self.send_text_message(recipient_id, text, **context)
        if message.get("custom"):
            await self.send_custom_json(recipient_id, message["custom"], **context)
        if message.get("image"):
            await self.send_image_url(recipient_id, message["image"], **context)
        for unsupported in ("attachment", "elements"):
            if message.get(unsupported):
                self._refuse(recipient_id, {unsupported: message[unsupported]},
                             f"Rasa '{unsupported}' has no WhatsApp form; use image or custom", context["agent"])

    # --- OutputChannel methods -------------------------------------------------------------

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, kwargs, lambda to: messages.text_bodies(to, text),
                         {"text": text})

    async def send_text_with_buttons(self, recipient_id: Text, text: Text,
                                     buttons: List[Dict[Text, Any]], **kwargs: Any) -> None:
        language = kwargs.get("language") or self._language_of(recipient_id)
        await self._send(recipient_id, kwargs, lambda to: [messages.buttons_body(
            to, text, buttons, language=language, header=kwargs.get("header"),
            footer=kwargs.get("footer"), list_button=kwargs.get("list_button"), id_key=self.id_key)],
            {"text": text, "buttons": buttons})

    async def send_quick_replies(self, recipient_id: Text, text: Text,
                                 quick_replies: List[Dict[Text, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, kwargs,
                         lambda to: [messages.image_body(to, image, kwargs.get("caption"))],
                         {"image": image})

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any],
                               **kwargs: Any) -> None:
        await self._send(recipient_id, kwargs, lambda to: [messages.custom_body(to, json_message)],
                         {"custom": json_message})

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        self._refuse(recipient_id, {"attachment": attachment},
                     "Rasa 'attachment' has no WhatsApp form; use image or custom", kwargs.get("agent"))

    # --- internals -------------------------------------------------------------------------

    async def _send(self, conversation_id: str, kwargs: Mapping[str, Any],
                    build: Callable[[Any], List[Dict[str, Any]]], source: Mapping[str, Any]) -> List[str]:
        """Build every body first (a limit problem sends nothing), then send them in order,
        stopping at the first failure so the customer never gets a message out of sequence."""
        agent = kwargs.get("agent") or _meta(kwargs, "agent")
        wamids: List[str] = []
        failure: dict[str, Any] | None = None
        try:
            bodies = build(await self._address(conversation_id))
        except (LimitError, LookupError) as exc:
            code = "limits" if isinstance(exc, LimitError) else "no_recipient"
            self._refuse(conversation_id, source, str(exc), agent, code=code)
            failure = {"code": code, "title": str(exc), "kind": "refused"}
            if self.raise_errors:
                raise
            bodies = []
        try:
            for body in bodies:
                try:
                    wamid = await self._deliver(conversation_id, body, agent, kwargs.get("language"))
                except DeferredError as exc:
                    # Nobody keeps a turn's or an agent's message for later: it was not sent.
                    when = f"; it can go after {exc.retry_at:%Y-%m-%d %H:%M} UTC" if exc.retry_at else ""
                    title = f"not sent: {exc.title}{when}"
                    self._refuse(conversation_id, body, title, agent, code=str(exc.code))
                    failure = {"code": str(exc.code), "title": title, "kind": "refused"}
                    if self.raise_errors:
                        raise
                    break
                except SendError as exc:
                    failure = {"code": "" if exc.code is None else str(exc.code), "title": exc.title,
                               "detail": exc.detail, "kind": type(exc).__name__}
                    if self.raise_errors:
                        raise
                    break  # recorded and logged by the sender
                if wamid:
                    wamids.append(wamid)
        finally:
            if kwargs.get("event_key"):
                self._link(conversation_id, kwargs["event_key"], wamids, failure)
        return wamids

    def _link(self, conversation_id: str, key: str, wamids: List[str],
              failure: Optional[dict[str, Any]]) -> None:
        try:
            self.sender.delivery.link(conversation_id, key, wamids, failure)
        except redis.RedisError as exc:
            # The message went (or did not) either way; only its ticks in the console are lost.
            logger.warning("conversation %s: sends of %s not linked (%s)", conversation_id, key, exc)

    async def _deliver(self, conversation_id: str, body: Mapping[str, Any], agent: Optional[str],
                       language: Optional[str]) -> Optional[str]:
        """One body to the sender; the wamid, or None when nothing was sent."""
        return await self.sender.send(conversation_id, body, agent=agent)

    async def _address(self, conversation_id: str) -> Any:
        if self.recipient_for is None:
            return conversation_id
        found = self.recipient_for(conversation_id)
        if inspect.isawaitable(found):
            found = await found
        if hasattr(found, "fields"):
            return found.fields()
        return found

    def _language_of(self, conversation_id: str) -> Optional[str]:
        if self.language_for is None:
            return None
        try:
            return self.language_for(conversation_id)
        except Exception:  # a missing language only changes a button label
            logger.exception("language lookup failed for %s", conversation_id)
            return None

    def _refuse(self, conversation_id: str, body: Mapping[str, Any], reason: str,
                agent: Optional[str], code: str = "unsupported") -> None:
        # Expected behaviour (a closed window, a response WhatsApp cannot show), recorded for
        # people in wa:failures: not an error of this process.
        logger.warning("not sent to %s: %s", conversation_id, reason)
        self.sender.delivery.record_failure(conversation_id, body, code, reason, kind="refused", agent=agent)


class TurnOutput(WhatsAppOutput):
    """The bot's replies to one inbound message, numbered in the order Rasa sends them."""

    def __init__(self, parent: WhatsAppOutput, turn_id: str, handoff: Handoff, *,
                 name: str = "", last_message: str = "") -> None:
        super().__init__(parent.sender, parent.recipient_for, language_for=parent.language_for,
                         raise_errors=parent.raise_errors, handoff=handoff, turn_log=parent.turn_log)
        self.turn_id = turn_id
        self.customer_name = name  # not `name`: Rasa calls the channel's name()
        self.last_message = last_message
        self._next = 0
        self._before: dict[str, str] | None = None  # what an earlier run of this turn sent
        self._held = False
        self._first_send_after: Awaitable[Any] | None = None

    def first_send_after(self, pending: Awaitable[Any]) -> None:
        """The turn's first send waits for `pending` (the read receipt, connector/channel/turns.py)."""
        self._first_send_after = pending

    async def _deliver(self, conversation_id: str, body: Mapping[str, Any], agent: Optional[str],
                       language: Optional[str]) -> Optional[str]:
        number, self._next = self._next, self._next + 1
        if self._before is None:
            self._before = self.turn_log.sent(self.turn_id)
        earlier = self._before.get(str(number))
        if earlier == UNKNOWN:  # an earlier run could not tell: do not send it again
            self._hold(conversation_id, language)
            return None
        if self._held:
            self._refuse(conversation_id, body, HELD, agent, code="held")
            return None
        if earlier:
            logger.info("turn %s: send %d already went out as %s", self.turn_id, number, earlier)
            return earlier
        if self._first_send_after is not None:
            pending, self._first_send_after = self._first_send_after, None
            await pending
        try:
            wamid = await super()._deliver(conversation_id, body, agent, language)
        except UnknownOutcomeError:
            self.turn_log.record(self.turn_id, number, UNKNOWN)
            self._hold(conversation_id, language)
            raise
        self.turn_log.record(self.turn_id, number, wamid)
        return wamid

    def _hold(self, conversation_id: str, language: Optional[str]) -> None:
        """Stop the turn's later sends (they would arrive before, or instead of, the one that
        may be lost) and queue the chat for a person to check with the customer."""
        self._held = True
        self.handoff.request(conversation_id, UNKNOWN_OUTCOME_REASON, language or "es",
                             self.customer_name, self.last_message)


def _meta(message: Mapping[str, Any], key: str) -> Any:
    """A response field that may sit at the top level (Rasa merges event metadata there) or
    under `metadata` (domain responses and custom events)."""
    if message.get(key) is not None:
        return message[key]
    nested = message.get("metadata")
    return nested.get(key) if isinstance(nested, Mapping) else None


def _language(message: Mapping[str, Any]) -> Optional[str]:
    """The response's language: explicit, or the `language` slot condition of the variation
    Rasa picked (DESIGN.md: English variations carry condition language=en)."""
    explicit = _meta(message, "language")
    if explicit:
        return str(explicit)
    for condition in message.get("condition") or []:
        if isinstance(condition, Mapping) and condition.get("name") == "language":
            return str(condition.get("value"))
    return None
