"""Rasa's OutputChannel for WhatsApp: bot responses and agent replies → Cloud API sends.

One instance serves the whole process (the input channel's get_output_channel, the workers,
and Rasa's `tracker/events?output_channel=whatsapp` for agent replies), so nothing here is
per-conversation state.

Send failures never propagate into Rasa: an exception from an output channel aborts the turn
before the tracker is saved, which loses the customer's message and, if the turn is replayed,
re-sends the replies that did go out. Every failure is already in DeliveryLog (`wa:failures`)
for agents and operators; `raise_errors=True` is for tests and callers that want them.
"""
from __future__ import annotations

import inspect
import logging
from typing import Any, Callable, Dict, List, Mapping, Optional, Text

from rasa.core.channels.channel import OutputChannel

from core.clock import SYSTEM_CLOCK, Clock
from connector.cloudapi import messages
from connector.cloudapi.errors import SendError
from connector.cloudapi.limits import LimitError
from connector.cloudapi.sender import CloudSender

logger = logging.getLogger(__name__)

# conversation id → wa_id, addressing fields ({"to": …} / {"recipient": …}) or an object with
# .fields() (connector.webhook.identity.Recipient); sync or async.
RecipientLookup = Callable[[str], Any]
LanguageLookup = Callable[[str], Optional[str]]


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
    ) -> None:
        self.sender = sender
        self.recipient_for = recipient_for
        self.language_for = language_for
        self.raise_errors = raise_errors

    @classmethod
    def from_config(cls, config: Any, redis, clock: Clock = SYSTEM_CLOCK, *, http=None,
                    recipient_for: RecipientLookup | None = None, **options: Any) -> "WhatsAppOutput":
        """Build sender and channel from a GraphTarget (the WhatsAppConfig is one) and a Redis client."""
        sender_options = {k: options.pop(k) for k in list(options)
                          if k in ("retry", "pacing", "timeout", "sleep", "rng", "window")}
        return cls(CloudSender(config, redis, clock, http, **sender_options), recipient_for, **options)

    # --- Rasa's entry point ------------------------------------------------------------

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Like OutputChannel.send_response, but one interactive message for text + buttons and
        the response's metadata (agent, language) carried to every part."""
        message = dict(message)
        context = {"agent": _meta(message, "agent"), "language": _language(message)}
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
            footer=kwargs.get("footer"), list_button=kwargs.get("list_button"))],
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
        try:
            bodies = build(await self._address(conversation_id))
        except (LimitError, LookupError) as exc:
            code = "limits" if isinstance(exc, LimitError) else "no_recipient"
            self._refuse(conversation_id, source, str(exc), agent, code=code)
            if self.raise_errors:
                raise
            return []
        wamids = []
        for body in bodies:
            try:
                wamids.append(await self.sender.send(conversation_id, body, agent=agent))
            except SendError:
                if self.raise_errors:
                    raise
                break  # recorded and logged by the sender
        return wamids

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
        logger.error("not sent to %s: %s", conversation_id, reason)
        self.sender.delivery.record_failure(conversation_id, body, code, reason, kind="refused", agent=agent)


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
