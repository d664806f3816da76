"""Handing a chat to a person, and what the bot says about opening hours.

The state machine lives in bot/handoff.py and the schedule in bot/hours/; these actions only
decide what to tell the customer. The texts are domain responses (editable, bilingual); the
actions fill in the numbers.
"""
from __future__ import annotations

import functools
import math
import os
import time
from typing import Any

import redis
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from core.clock import SYSTEM_CLOCK
from bot import orders
from bot.handoff import Handoff
from bot.hours import AfterHoursNotice, BusinessHours
from bot.hours.source import HoursFile
from core.redis_conn import get_redis

FALLBACK_INTENT = "nlu_fallback"
# After this many "didn't understand" in a row (the first one offers a person), hand off.
FALLBACKS_BEFORE_HANDOFF = 2
CONVERSATION_BOUNDARIES = ("pause", "resume", "restart", "session_started")


class PatientRedis(redis.Redis):
    """Waits out a Redis restart (refused, then "loading the dataset") for about as long as
    one takes. Raised instead, rasa_sdk answers Rasa with a 500, and Rasa ends the turn without
    the action's messages ("Bot will continue, but the actions events are lost"): a customer's
    greeting went unanswered. Rasa waits minutes for an action. (redis-py's own Retry does not
    cover connecting, which is what fails while Redis is down.)"""

    WAIT_SECONDS = 20.0

    def execute_command(self, *args, **options):
        deadline, delay = time.monotonic() + self.WAIT_SECONDS, 0.1
        while True:
            try:
                return super().execute_command(*args, **options)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)


@functools.lru_cache(maxsize=1)
def _redis():
    return PatientRedis(connection_pool=get_redis().connection_pool)


@functools.lru_cache(maxsize=1)
def _hours_file() -> HoursFile:
    return HoursFile(os.environ.get("BUSINESS_HOURS_FILE"))


def current_hours() -> BusinessHours:
    """The schedule on disk now: the console's hours editor saves it while this server runs."""
    return _hours_file().current()


def language_of(tracker: Tracker) -> str:
    return tracker.get_slot("language") or "es"


def _customer_name(tracker: Tracker) -> str:
    # The connector puts what WhatsApp told us about the sender under metadata["whatsapp"].
    whatsapp = (tracker.latest_message.get("metadata") or {}).get("whatsapp") or {}
    return str(whatsapp.get("name") or "")


def _last_customer_text(tracker: Tracker) -> str:
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("text") and not event["text"].startswith("/"):
            return event["text"]
    return ""


def _wait_words(seconds: int, language: str) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    if language == "en":
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    return f"{minutes} minuto" + ("s" if minutes != 1 else "")


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str,
             last_message: str | None = None) -> list[dict[str, Any]]:
    """Queue the chat for a person, tell the customer where they stand, and pause the bot.
    `last_message` is what the queue row shows; by default the customer's last typed text."""
    language = language_of(tracker)
    hours = current_hours()
    now = SYSTEM_CLOCK.now()
    ticket = Handoff(_redis()).request(
        tracker.sender_id,
        reason=reason if hours.is_open(now) else f"{reason} (after hours)",
        language=language,
        name=_customer_name(tracker),
        last_message=_last_customer_text(tracker) if last_message is None else last_message,
    )
    if ticket.state == "assigned":
        dispatcher.utter_message(response="utter_handoff_with_agent")
    elif not hours.is_open(now):
        # Chatwoot's out-of-office reply goes silent when a bot is connected; ours always speaks.
        dispatcher.utter_message(response="utter_handoff_after_hours", back=hours.back_message(now, language))
    elif ticket.eta_seconds is None:
        dispatcher.utter_message(response="utter_handoff_queued_no_eta", position=ticket.position)
    else:
        dispatcher.utter_message(
            response="utter_handoff_queued",
            position=ticket.position,
            wait=_wait_words(ticket.eta_seconds, language),
        )
    # The pause keeps the bot silent while Rasa still logs every message; action_listen makes
    # the tracker read "waiting for the user" so rules match again after the resume.
    return [ConversationPaused(), ActionExecuted("action_listen")]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        return hand_off(dispatcher, tracker, "asked for a person")


ORDER_REASON = "order"


class ActionOrder(Action):
    """A catalogue order: thank the customer and queue the chat for a person with the order's
    lines and total, as the answer promises ("a person will confirm it and send payment
    details"). After hours the queue keeps it and the customer is told when we open."""

    def name(self) -> str:
        return "action_order"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        whatsapp = (tracker.latest_message.get("metadata") or {}).get("whatsapp") or {}
        dispatcher.utter_message(response="utter_order_received")
        return hand_off(dispatcher, tracker, ORDER_REASON, orders.preview(whatsapp.get("order")) or "Order")


class ActionFallback(Action):
    """First miss: say so and offer a person. Second miss in a row: hand off."""

    def name(self) -> str:
        return "action_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        misses = 0
        for event in reversed(tracker.events):
            if event.get("event") in CONVERSATION_BOUNDARIES:
                # What the customer wrote to an agent (paused tracker) or in an earlier
                # session is not a miss of the bot.
                break
            if event.get("event") != "user":
                continue
            if (event.get("parse_data") or {}).get("intent", {}).get("name") != FALLBACK_INTENT:
                break
            misses += 1
        if misses >= FALLBACKS_BEFORE_HANDOFF:
            return hand_off(dispatcher, tracker, "the bot did not understand twice")
        dispatcher.utter_message(response="utter_default")
        return []


class ActionGreet(Action):
    """Greeting and menu, with the after-hours notice once per conversation and closed period."""

    def name(self) -> str:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        dispatcher.utter_message(response="utter_greet")
        hours = current_hours()
        now = SYSTEM_CLOCK.now()
        if AfterHoursNotice(_redis(), hours).should_send(tracker.sender_id, now):
            dispatcher.utter_message(
                response="utter_after_hours_notice", back=hours.back_message(now, language_of(tracker))
            )
        dispatcher.utter_message(response="utter_main_menu")
        return []
