"""The connector's hold on Rasa's trackers (connector/channel/tracker.py), against the really
trained assistant, its Redis tracker store and the real handoff in Redis."""
from __future__ import annotations

import asyncio
import time

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ConversationPaused, ConversationResumed, UserUttered

from bot.content.catalog import load_catalog
from bot.handoff import ASSIGNED, Handoff

from tests.connector.channel.conftest import CONV, wire

pytestmark = pytest.mark.model

SHIPPING = "cuanto cuesta el envio"


def text_of(body: dict) -> str:
    return body["text"]["body"] if body["type"] == "text" else body["interactive"]["body"]["text"]


async def pause_tracker(agent, conv: str = CONV) -> None:
    """What action_handoff leaves in Rasa: the customer's request, then the pause."""
    async with agent.lock_store.lock(conv):
        tracker = await agent.processor.fetch_tracker_and_update_session(conv)
        tracker.update(UserUttered("quiero un asesor", message_id="wamid.ask"))
        tracker.update(ConversationPaused())
        await agent.tracker_store.save(tracker)


async def hand_to_ana(agent, handoff: Handoff, conv: str = CONV) -> None:
    """Where action_handoff and a claim leave a chat: queued then assigned, the tracker paused."""
    handoff.request(conv, "asked for a person", "es", "Cliente", "quiero un asesor")
    assert handoff.claim(conv, "ana")
    await pause_tracker(agent, conv)


async def console_resume(agent, conv: str = CONV) -> None:
    """What the console's resolve posts to Rasa's tracker/events (under Rasa's lock)."""
    async with agent.lock_store.lock(conv):
        tracker = await agent.processor.get_tracker(conv)
        tracker.update(ConversationResumed())
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await agent.tracker_store.save(tracker)


class ResolvedRightAfterReading(Handoff):
    """Ana clicks "resolve" just after the worker read "assigned" for the customer's message:
    the handoff goes back to "bot" and (unless `console_resumes` is False, e.g. Rasa was
    briefly unreachable for the console) the console resumes the tracker."""

    def __init__(self, redis, agent, loop, console_resumes: bool = True) -> None:
        super().__init__(redis)
        self.agent, self.loop, self.console_resumes = agent, loop, console_resumes
        self.armed = False

    def state(self, conv):
        current = super().state(conv)
        if self.armed and current.state == ASSIGNED:
            self.armed = False
            self.resolve(conv, "ana")
            if self.console_resumes:
                # state() runs in a worker thread; the console's request runs on Rasa's loop.
                asyncio.run_coroutine_threadsafe(console_resume(self.agent, conv), self.loop).result()
        return current


@pytest.mark.parametrize("console_resumes", [True, False], ids=["console-resumed", "console-did-not-resume"])
async def test_a_chat_resolved_while_its_message_is_handled_is_not_left_paused(
        rasa_agent, redis_client, console_resumes):
    # The worker read "assigned", the agent resolved, and the worker paused the tracker again:
    # handoff "bot", tracker paused, nobody holds the chat, every later message ignored.
    handoff = ResolvedRightAfterReading(redis_client, rasa_agent, asyncio.get_running_loop(), console_resumes)
    channel = wire(rasa_agent, redis_client, handoff=handoff)
    await hand_to_ana(rasa_agent, handoff)

    handoff.armed = True
    await channel.says("¿sigue ahí?", "wamid.during")
    assert not handoff.armed and handoff.state(CONV).state == "bot"
    assert not (await channel.tracker()).is_paused()

    replies = await channel.says(SHIPPING, "wamid.after")
    assert text_of(replies[0]) == load_catalog().get("shipping_cost").answer("es")


async def test_a_handed_off_chat_stays_paused_when_rasa_starts_a_new_session(rasa_agent, redis_client):
    # Rasa starts a new session after session_expiration_time (60 min) without a user message,
    # and SessionStarted clears the pause: a customer waiting in the queue overnight, or
    # answering an agent an hour later, would get the bot talking over the agent.
    channel = wire(rasa_agent, redis_client)
    channel.handoff.request(CONV, "asked for a person", "es", "Cliente", "quiero un asesor")
    two_hours_ago = time.time() - 7200
    async with rasa_agent.lock_store.lock(CONV):
        tracker = await rasa_agent.processor.get_tracker(CONV)
        tracker.update(UserUttered("quiero un asesor", timestamp=two_hours_ago))
        tracker.update(ActionExecuted("action_handoff", timestamp=two_hours_ago))
        tracker.update(ConversationPaused(timestamp=two_hours_ago))
        await rasa_agent.tracker_store.save(tracker)

    assert await channel.says("¿siguen ahí?", "wamid.late") == []
    tracker = await channel.tracker()
    assert tracker.is_paused() and tracker.latest_message.text == "¿siguen ahí?"
    assert any(e.type_name == "session_started" for e in tracker.events)


async def test_handled_finds_the_customer_message_by_wamid_and_language_reads_the_slot(rasa_agent, redis_client):
    channel = wire(rasa_agent, redis_client)
    assert not await channel.trackers.handled(CONV, "wamid.en") and await channel.trackers.language(CONV) is None
    await channel.says("what are your opening hours?", "wamid.en")
    assert await channel.trackers.handled(CONV, "wamid.en")
    assert not await channel.trackers.handled(CONV, "wamid.other")
    assert not await channel.trackers.handled("34611", "wamid.en")
    assert await channel.trackers.language(CONV) == "en"


async def test_a_waiting_customer_who_goes_back_to_the_bot_is_answered_by_it(rasa_agent, redis_client):
    channel = wire(rasa_agent, redis_client)
    channel.handoff.request(CONV, "asked for a person", "es", "Cliente", "quiero un asesor")
    await pause_tracker(rasa_agent)
    (menu,) = await channel.says("menu", "wamid.back")
    assert menu["interactive"]["type"] == "list" and channel.handoff.state(CONV).state == "bot"
    assert not (await channel.tracker()).is_paused()

