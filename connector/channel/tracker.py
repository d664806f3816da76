"""Everything the connector does to Rasa's trackers, in one place.

Rasa owns the trackers (tracker store, lock store, session rules); the handoff state in Redis
(bot/handoff) says who answers the customer. The two must agree, or the bot talks over an agent
(tracker running while a person holds the chat) or goes silent for good (tracker paused while
nobody holds it). Every change made here happens under Rasa's lock for the conversation, the
same lock Rasa's turns and its `tracker/events` API (the console's resume) take, and the
handoff state is read inside that lock, so a resolve cannot slip between reading and pausing.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

from rasa.core.agent import Agent
from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.handoff import Handoff

LANGUAGE_SLOT = "language"


class RasaTrackers:
    def __init__(self, agent: Callable[[], Agent], handoff: Handoff) -> None:
        """`agent` returns Rasa's current agent (app.ctx.agent): Rasa swaps in a new Agent
        when a model is loaded through its API, so it is looked up at each use."""
        self._agent = agent
        self.handoff = handoff

    async def follow_handoff(self, conv: str, output: OutputChannel, metadata: dict[str, Any]) -> bool:
        """Pause or resume the tracker to match the handoff state as it is now; True while a
        person has the chat (queued or assigned), i.e. Rasa must only log the message."""
        agent = self._agent()
        if not agent.is_ready():  # no model loaded: Rasa ignores every message anyway
            return await self._with_person(conv)
        async with agent.lock_store.lock(conv):
            with_person = await self._with_person(conv)
            if with_person:
                # A customer who waits longer than Rasa's session expiry starts a new session,
                # and SessionStarted clears the pause: start it here and pause it again.
                tracker = await agent.processor.fetch_tracker_and_update_session(conv, output, metadata)
                if not tracker.is_paused():
                    tracker.update(ConversationPaused())
                    await agent.tracker_store.save(tracker)
            else:
                tracker = await agent.tracker_store.retrieve(conv)
                if tracker is not None and tracker.is_paused():
                    # Nobody holds the chat (resolved, or the customer left the queue) but the
                    # bot is still paused: it would ignore the customer for good.
                    _resume(tracker)
                    await agent.tracker_store.save(tracker)
            return with_person

    async def log_answered(self, conv: str, output: OutputChannel, metadata: dict[str, Any], *,
                           text: str, wamid: str, intent: str, reply: str) -> None:
        """A customer message the connector answered itself (a consent command), logged as
        Rasa logs a message: the customer's text with `intent` (certain, not predicted) and the
        reply, so the history, the event store and `handled` see both. No action runs: the
        next message is predicted as if after the previous turn, and the bot's statistics
        (its handled messages, its fallbacks) do not count a message the bot did not handle."""
        agent = self._agent()
        if not agent.is_ready():
            return
        async with agent.lock_store.lock(conv):
            tracker = await agent.processor.fetch_tracker_and_update_session(conv, output, metadata)
            tracker.update(UserUttered(
                text, intent={"name": intent, "confidence": 1.0},
                parse_data={"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": text},
                input_channel=output.name(), message_id=wamid, metadata=metadata))
            tracker.update(BotUttered(reply, metadata={"answered_by": "connector", "intent": intent}))
            await agent.tracker_store.save(tracker)

    def responses(self) -> dict[str, Any]:
        """The loaded model's domain responses (what the bot would say), by name."""
        return self._agent().domain.responses

    async def handled(self, conv: str, wamid: str) -> bool:
        """Whether Rasa already logged the customer message with this wamid (as message_id)."""
        tracker = await self._retrieve(conv)
        return tracker is not None and any(
            getattr(event, "message_id", None) == wamid for event in tracker.events)

    async def language(self, conv: str) -> Optional[str]:
        """The conversation's language slot (es|en), None for a conversation Rasa never saw."""
        tracker = await self._retrieve(conv)
        return None if tracker is None else tracker.get_slot(LANGUAGE_SLOT)

    async def _retrieve(self, conv: str) -> Optional[DialogueStateTracker]:
        return await self._agent().tracker_store.retrieve(conv)

    async def _with_person(self, conv: str) -> bool:
        return (await asyncio.to_thread(self.handoff.state, conv)).with_person


def _resume(tracker: DialogueStateTracker) -> None:
    tracker.update(ConversationResumed())
    # "Waiting for the user" again, so the rules match the very next message.
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
